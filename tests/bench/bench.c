/*
 * bench.c - timing helpers for make bench (not a test: it asserts
 * nothing about speed).
 *
 *   bench floor CONNINFO N          median microseconds of a bare libpq
 *                                   connect + SELECT 1 + disconnect
 *   bench pipe N FILE... -- CMD...  run CMD once per FILE with the file
 *                                   on standard input, as a mail system
 *                                   does; median microseconds per run
 *   bench rusage CMD...             run CMD; print its wall time in
 *                                   milliseconds and peak RSS in KiB
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static long
median(long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_long);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
floor_cmd(const char *conninfo, int n)
{
	long *t = calloc((size_t)n, sizeof(*t));
	PGconn *c = NULL;
	PGresult *r = NULL;
	long t0;
	int i;

	for (i = 0; i < n; i++) {
		t0 = now_us();
		c = PQconnectdb(conninfo);
		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "bench: %s", PQerrorMessage(c));
			return 1;
		}
		r = PQexec(c, "SELECT 1");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(stderr, "bench: %s", PQerrorMessage(c));
			return 1;
		}
		PQclear(r);
		PQfinish(c);
		t[i] = now_us() - t0;
	}
	printf("%ld\n", median(t, n));
	free(t);
	return 0;
}

static int
run_one(char **cmd, const char *input, struct rusage *ru)
{
	pid_t pid;
	int status, fd;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (input != NULL) {
			fd = open(input, O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0)
				_exit(127);
			close(fd);
			/* What the command prints is not ours to report. */
			fd = open("/dev/null", O_WRONLY);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(127);
			close(fd);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (wait4(pid, &status, 0, ru) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int
pipe_cmd(int argc, char **argv)
{
	struct rusage ru;
	long *t = NULL;
	long t0;
	int i, nfiles = 0, n, rc;
	char **cmd = NULL;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		nfiles++;
	}
	if (i >= argc - 1)
		return 2;
	cmd = argv + i + 1;
	n = nfiles;
	t = calloc((size_t)n, sizeof(*t));
	for (i = 0; i < n; i++) {
		t0 = now_us();
		rc = run_one(cmd, argv[i], &ru);
		t[i] = now_us() - t0;
		if (rc != 0) {
			fprintf(stderr, "bench: %s exited %d on %s\n", cmd[0],
			    rc, argv[i]);
			return 1;
		}
	}
	printf("%ld\n", median(t, n));
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	long t0;
	int rc;

	if (argc >= 4 && strcmp(argv[1], "floor") == 0)
		return floor_cmd(argv[2], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "pipe") == 0)
		return pipe_cmd(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "rusage") == 0) {
		t0 = now_us();
		rc = run_one(argv + 2, NULL, &ru);
		printf("%ld %ld\n", (now_us() - t0) / 1000, ru.ru_maxrss);
		return rc;
	}
	fprintf(stderr, "usage: bench floor|pipe|rusage ...\n");
	return 2;
}
