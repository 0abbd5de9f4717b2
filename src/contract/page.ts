// The most jobs one page of GET /jobs holds: the server's schema and the CLI's check of
// --limit read it here.
export const MAX_PAGE = 500;
