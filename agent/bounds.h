/* The time bounds of a login that follow what this machine costs now (docs/protocol.md, "Time
 * bounds"): a bound measured on an idle machine, times the machine's slowness (runnable tasks
 * per core), and a browser's start from the starts measured before it. */
#ifndef SESAME_AGENT_BOUNDS_H
#define SESAME_AGENT_BOUNDS_H

#define LOGIN_ATTACH_MS 15000	   /* the browser starts: the floor of its bound, idle */
#define LOGIN_START_FACTOR 5	   /* a start may take this many times the slowest measured */
#define LOGIN_START_COSTS 8	   /* measured starts kept, the latest */
#define LOGIN_ATTACH_MAX_MS 120000 /* a start never has longer */
#define LOGIN_SLOWNESS_MAX 4	   /* the slowness a bound follows at most */

/* The slowness of a machine with this 1-minute load average on cpus processors: at least 1, at
 * most LOGIN_SLOWNESS_MAX. */
double login_slowness(double load, long cpus);

/* A start's bound: LOGIN_START_FACTOR times cost_ms (the slowest start measured, on an idle
 * machine's scale; 0 when none was), at least LOGIN_ATTACH_MS; times the slowness; times
 * sharing / cpus when more browsers than processors start at once; at most LOGIN_ATTACH_MAX_MS. */
long long login_start_bound(long long cost_ms, double slowness, int sharing, long cpus);

/* A start that took took_ms under that slowness and sharing, on an idle machine's scale. */
long long login_start_cost(long long took_ms, double slowness, int sharing, long cpus);

#endif
