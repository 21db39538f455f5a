/** A command line the CLI does not understand: told with the usage text, exit code 64. */
export class UsageError extends Error {}
