/* Login time bounds from measured costs (bounds.h). Pure arithmetic: fill.c measures. */
#include "bounds.h"

double login_slowness(double load, long cpus)
{
	double s = cpus > 0 ? load / (double)cpus : 1.0;

	return s < 1.0 ? 1.0 : s > LOGIN_SLOWNESS_MAX ? LOGIN_SLOWNESS_MAX : s;
}

/* How many times fewer processors than starting browsers there are, at least 1. */
static double shared(int sharing, long cpus)
{
	return cpus > 0 && sharing > cpus ? (double)sharing / (double)cpus : 1.0;
}

long long login_start_bound(long long cost_ms, double slowness, int sharing, long cpus)
{
	long long idle = cost_ms * LOGIN_START_FACTOR > LOGIN_ATTACH_MS
			     ? cost_ms * LOGIN_START_FACTOR
			     : LOGIN_ATTACH_MS;
	double b = (double)idle * slowness * shared(sharing, cpus);

	return b > LOGIN_ATTACH_MAX_MS ? LOGIN_ATTACH_MAX_MS : (long long)b;
}

long long login_start_cost(long long took_ms, double slowness, int sharing, long cpus)
{
	return (long long)((double)took_ms / slowness / shared(sharing, cpus));
}
