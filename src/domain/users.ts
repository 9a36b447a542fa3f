/** Users and the rules for their names and passwords. */
import Joi from 'joi';

export const USERNAME_MIN = 3;
export const PASSWORD_MIN = 8;
/** Long enough for any passphrase, short enough that hashing it cannot be used to load the box. */
export const PASSWORD_MAX = 1024;

export const usernameSchema = Joi.string()
  .min(USERNAME_MIN)
  .max(64)
  .pattern(/^[A-Za-z0-9._@-]+$/)
  .messages({ 'string.pattern.base': '"username" may only contain letters, digits and . _ @ -' });

/** A new password: length rules only; any character is allowed. */
export const newPasswordSchema = Joi.string().min(PASSWORD_MIN).max(PASSWORD_MAX);

/** A password being checked: never tell the caller about rules, just compare. */
export const givenPasswordSchema = Joi.string().min(1).max(PASSWORD_MAX);

/** What a user is, as the API shows it. */
export interface PublicUser {
  id: number;
  username: string;
}
