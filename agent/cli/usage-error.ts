// A command used wrongly (exit status 2). Its own module so that args.ts and output.ts,
// which both need it, do not import each other.
export class UsageError extends Error {}
