// The API layer renders the errors that every layer raises; they are defined in core.
export * from '../core/errors.js';
