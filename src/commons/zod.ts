import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * zod/mini: the same validation, tree-shaken to what the schemas use (full zod was half of every
 * bundle). Import it as a namespace (`import * as z from ".../commons/zod"`): a namespace object
 * passed around as a value would pull the whole library back in. Mini loads no locale of its own;
 * without English every default message would read "Invalid input", and errors must say what is wrong.
 */
config(en());

export * from "zod/mini";
