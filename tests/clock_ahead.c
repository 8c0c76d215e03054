/*
 * LD_PRELOAD shim: every process of a test run (pytest, the simulator, Streamlit, the collector
 * service, PostgreSQL, SQLite inside Python) sees the wall clock CLOCK_AHEAD_DAYS days ahead, so a
 * test that meets today's date through any of them shows it (see README, "Tests").
 *
 * Why not Debian's libfaketime: 0.9.10 also shifts CLOCK_MONOTONIC but does not wrap sem_clockwait,
 * which Python 3.11 uses for every lock, Event and Queue wait with a timeout: such a wait then lasts
 * the whole shift (a year). With FAKETIME_DONT_FAKE_MONOTONIC=1 instead, its clock_nanosleep wrapper
 * still shifts monotonic deadlines and time.sleep fails with EINVAL. The monotonic clock has no
 * date, so here it stays untouched; only the wall clock and deadlines given on it are shifted.
 *
 * Built and preloaded by tests/clock-ahead.sh.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static time_t ahead_s;

__attribute__((constructor)) static void read_shift(void) {
    const char *days = getenv("CLOCK_AHEAD_DAYS");
    ahead_s = days ? (time_t)strtol(days, NULL, 10) * 86400 : 0;
}

#define REAL(name) static __typeof__(name) *real_##name; \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static int is_wall(clockid_t clock) {
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI
        || clock == CLOCK_REALTIME_ALARM;
}

/* A deadline on the shifted wall clock, back on the real one for the kernel. */
static struct timespec real_deadline(const struct timespec *shifted) {
    struct timespec t = *shifted;
    t.tv_sec -= ahead_s;
    return t;
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    REAL(clock_gettime);
    int rc = real_clock_gettime(clock, ts);
    if (rc == 0 && is_wall(clock)) ts->tv_sec += ahead_s;
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    REAL(gettimeofday);
    int rc = real_gettimeofday(tv, tz);
    if (rc == 0) tv->tv_sec += ahead_s;
    return rc;
}

time_t time(time_t *out) {
    REAL(time);
    time_t now = real_time(NULL);
    if (now != (time_t)-1) now += ahead_s;
    if (out) *out = now;
    return now;
}

int timespec_get(struct timespec *ts, int base) {
    REAL(timespec_get);
    int rc = real_timespec_get(ts, base);
    if (rc == TIME_UTC) ts->tv_sec += ahead_s;
    return rc;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    REAL(clock_nanosleep);
    if ((flags & TIMER_ABSTIME) && is_wall(clock)) {
        struct timespec t = real_deadline(req);
        return real_clock_nanosleep(clock, flags, &t, rem);
    }
    return real_clock_nanosleep(clock, flags, req, rem);
}

int sem_timedwait(sem_t *restrict sem, const struct timespec *restrict abstime) {
    REAL(sem_timedwait);
    struct timespec t = real_deadline(abstime);
    return real_sem_timedwait(sem, &t);
}

int sem_clockwait(sem_t *restrict sem, clockid_t clock, const struct timespec *restrict abstime) {
    REAL(sem_clockwait);
    if (!is_wall(clock)) return real_sem_clockwait(sem, clock, abstime);
    struct timespec t = real_deadline(abstime);
    return real_sem_clockwait(sem, clock, &t);
}

int pthread_cond_clockwait(pthread_cond_t *restrict cond, pthread_mutex_t *restrict mutex, clockid_t clock,
                           const struct timespec *restrict abstime) {
    REAL(pthread_cond_clockwait);
    if (!is_wall(clock)) return real_pthread_cond_clockwait(cond, mutex, clock, abstime);
    struct timespec t = real_deadline(abstime);
    return real_pthread_cond_clockwait(cond, mutex, clock, &t);
}

int pthread_cond_timedwait(pthread_cond_t *restrict cond, pthread_mutex_t *restrict mutex,
                           const struct timespec *restrict abstime) {
    REAL(pthread_cond_timedwait);
    /* glibc keeps the condition's clock in bit 1 of __wrefs (set: CLOCK_MONOTONIC). */
    if (__atomic_load_n(&cond->__data.__wrefs, __ATOMIC_RELAXED) & 2)
        return real_pthread_cond_timedwait(cond, mutex, abstime);
    struct timespec t = real_deadline(abstime);
    return real_pthread_cond_timedwait(cond, mutex, &t);
}

int pthread_mutex_timedlock(pthread_mutex_t *restrict mutex, const struct timespec *restrict abstime) {
    REAL(pthread_mutex_timedlock);
    struct timespec t = real_deadline(abstime);
    return real_pthread_mutex_timedlock(mutex, &t);
}
