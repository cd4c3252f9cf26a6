/*
 * room_host.c: racelab room host: a throwaway PostgreSQL for a classroom
 * without a server.
 *
 * It makes a private directory under /tmp, runs initdb and pg_ctl there (as the
 * 'postgres' user when run as root: the server refuses to run as root), and
 * lets in two kinds of connection only:
 *
 *   the instructor   over the Unix socket in that directory (which only this
 *                    user, or root, can reach), as the superuser that owns the
 *                    rooms;
 *   the students     over TCP on the address given, as racelab_student, with a
 *                    generated password checked by SCRAM, to database racelab.
 *
 * The password is made here and sent to the server only as a SCRAM verifier
 * (PQencryptPasswordConn), and printed once, in the conninfo to hand out.  At
 * Ctrl-C (or, without a terminal, when stdin closes) the server stops and the
 * directory goes.
 */
#include "room_cmd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <glob.h>
#include <ifaddrs.h>
#include <libpq-fe.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/status.h"

#define STUDENT_ROLE "racelab_student"
#define OWNER_ROLE "racelab"
#define DBNAME "racelab"

struct host {
	char bindir[256];
	char dir[64];                   /* /tmp/racelab-host-XXXXXX */
	char data[96], sock[96], log[96], server_log[96];
	struct passwd *as;              /* run the server as this user (root only) */
	int started;
};

/* The highest /usr/lib/postgresql/N/bin, $PG_BINDIR, or initdb's directory on
 * the PATH (as scripts/pg-test-server.sh finds them). */
static int find_bindir(struct host *h)
{
	const char *env = getenv("PG_BINDIR");
	glob_t g;
	int best = -1;

	if (env && *env) {
		snprintf(h->bindir, sizeof h->bindir, "%s", env);
		return 0;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			int v = atoi(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));

			if (v > best) {
				best = v;
				snprintf(h->bindir, sizeof h->bindir, "%.*s",
				         (int)(strlen(g.gl_pathv[i]) - strlen("/initdb")), g.gl_pathv[i]);
			}
		}
		globfree(&g);
	}
	if (best >= 0)
		return 0;
	{
		const char *path = getenv("PATH");
		char buf[4096], *save = NULL;

		snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
		for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			char f[512];

			snprintf(f, sizeof f, "%s/initdb", d);
			if (access(f, X_OK) == 0) {
				snprintf(h->bindir, sizeof h->bindir, "%s", d);
				return 0;
			}
		}
	}
	return -1;
}

/* Run BINDIR/PROG with ARGS (NULL-terminated) as the server's user, output to
 * LOG; returns its exit status, or -1. */
static int run_pg(struct host *h, const char *prog, const char *const *args)
{
	char path[320];
	const char *argv[16];
	int n = 0, st;
	pid_t pid;

	snprintf(path, sizeof path, "%s/%s", h->bindir, prog);
	argv[n++] = path;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* the server must not see the instructor's Ctrl-C: we stop it ourselves */
		setsid();
		if (h->as && (setgid(h->as->pw_gid) != 0 || setuid(h->as->pw_uid) != 0))
			_exit(126);
		fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, STDIN_FILENO);
		if (chdir("/") != 0)
			_exit(126);
		/* libpq's variables must not redirect the server's own tools */
		unsetenv("PGHOST"); unsetenv("PGPORT"); unsetenv("PGDATA"); unsetenv("PGUSER");
		unsetenv("PGDATABASE"); unsetenv("PGOPTIONS");
		execv(path, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void host_stop(struct host *h)
{
	if (h->started) {
		const char *args[] = { "-D", h->data, "-m", "fast", "-w", "-t", "30", "-s", "stop",
		                       NULL };

		run_pg(h, "pg_ctl", args);
		h->started = 0;
	}
	if (h->dir[0])
		nftw(h->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	h->dir[0] = '\0';
}

/* The address students reach: ADDR itself, or for "every address" the
 * machine's first IPv4 address that is not the loopback. */
static void student_address(const char *listen, char *out, size_t n)
{
	struct ifaddrs *ifs, *i;

	snprintf(out, n, "%s", listen);
	if (strcmp(listen, "*") && strcmp(listen, "0.0.0.0"))
		return;
	snprintf(out, n, "127.0.0.1");
	if (getifaddrs(&ifs) != 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, (socklen_t)n);
		break;
	}
	freeifaddrs(ifs);
}

static int append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

/* A password of 20 letters and digits: nothing to quote in a conninfo. */
static int make_password(char *out)
{
	static const char set[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char b[20];

	if (getentropy(b, sizeof b) != 0)
		return -1;
	for (int i = 0; i < 20; i++)
		out[i] = set[b[i] % (sizeof set - 1)];
	out[20] = '\0';
	return 0;
}

static int sql(PGconn *pg, const char *text, char *err, size_t n)
{
	PGresult *r = PQexec(pg, text);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		snprintf(err, n, "%s", PQerrorMessage(pg));
	PQclear(r);
	return ok ? 0 : -1;
}

/* As the owner, over the socket: the database and the students' role. */
static int make_roles(struct host *h, const char *port, const char *password, char *err,
                      size_t n)
{
	char ci[256], *verifier = NULL, *lit = NULL, q[512];
	PGconn *pg;
	int rc = -1;

	snprintf(ci, sizeof ci, "host=%s port=%s dbname=postgres user=" OWNER_ROLE, h->sock, port);
	pg = PQconnectdb(ci);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, n, "%s", PQerrorMessage(pg));
		PQfinish(pg);
		return -1;
	}
	if (sql(pg, "CREATE DATABASE " DBNAME " OWNER " OWNER_ROLE, err, n))
		goto out;
	verifier = PQencryptPasswordConn(pg, password, STUDENT_ROLE, "scram-sha-256");
	if (!verifier || !(lit = PQescapeLiteral(pg, verifier, strlen(verifier)))) {
		snprintf(err, n, "cannot make the password's verifier: %s", PQerrorMessage(pg));
		goto out;
	}
	snprintf(q, sizeof q, "CREATE ROLE " STUDENT_ROLE " LOGIN PASSWORD %s", lit);
	rc = sql(pg, q, err, n);
out:
	if (verifier)
		PQfreemem(verifier);
	if (lit)
		PQfreemem(lit);
	PQfinish(pg);
	return rc;
}

int room_host_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "*";
	char port[16] = "5432", password[32], addr[64], conf[1024], err[512], *end;
	struct host h = { 0 };
	int ch, rc = EX_UNAVAILABLE;
	long v;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "l:p:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen = optarg; break;
		case 'p':
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 1 || v > 65535) {
				fprintf(stderr, "racelab: bad value '%s' for --port: 1-65535\n", optarg);
				return EX_USAGE;
			}
			snprintf(port, sizeof port, "%ld", v);
			break;
		case 'h':
			printf("usage: racelab room host [--listen ADDRESS] [--port PORT]\n");
			return 0;
		default: return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "racelab: unexpected argument '%s' for racelab room host\n",
		        argv[optind]);
		return EX_USAGE;
	}
	if (!*listen || strpbrk(listen, "'\\\n ,")) {
		fprintf(stderr, "racelab: bad value '%s' for --listen: one address, or * for"
		        " every address\n", listen);
		return EX_USAGE;
	}
	if (find_bindir(&h)) {
		fprintf(stderr, "racelab: the PostgreSQL server (initdb, pg_ctl) is not installed;"
		        " scripts/install-deps.sh installs it (or set PG_BINDIR)\n");
		return EX_UNAVAILABLE;
	}
	if (geteuid() == 0 && !(h.as = getpwnam("postgres")) && !(h.as = getpwnam("nobody"))) {
		fprintf(stderr, "racelab: PostgreSQL does not run as root, and there is no"
		        " 'postgres' user to run it as\n");
		return EX_UNAVAILABLE;
	}
	if (make_password(password)) {
		fprintf(stderr, "racelab: cannot make a password: no randomness\n");
		return EX_SOFTWARE;
	}

	room_cmd_catch_signals();
	snprintf(h.dir, sizeof h.dir, "/tmp/racelab-host-XXXXXX");
	if (!mkdtemp(h.dir)) {
		fprintf(stderr, "racelab: cannot make a directory in /tmp: %s\n", strerror(errno));
		return EX_UNAVAILABLE;
	}
	snprintf(h.data, sizeof h.data, "%s/data", h.dir);
	snprintf(h.sock, sizeof h.sock, "%s/sock", h.dir);
	snprintf(h.log, sizeof h.log, "%s/tools.log", h.dir);
	snprintf(h.server_log, sizeof h.server_log, "%s/data/server.log", h.dir);
	if (mkdir(h.sock, 0700) != 0 ||
	    (h.as && (chown(h.dir, h.as->pw_uid, h.as->pw_gid) != 0 ||
	              chown(h.sock, h.as->pw_uid, h.as->pw_gid) != 0))) {
		fprintf(stderr, "racelab: cannot prepare %s: %s\n", h.dir, strerror(errno));
		goto out;
	}
	{
		const char *args[] = { "-D", h.data, "-U", OWNER_ROLE, "-A", "trust", "-E", "UTF8",
		                       "--no-locale", "--no-sync", NULL };

		if (run_pg(&h, "initdb", args) != 0) {
			fprintf(stderr, "racelab: initdb failed; its log:\n");
			goto keep;
		}
	}
	/* Who may connect: the owner on the socket; students over TCP, by SCRAM. */
	snprintf(conf, sizeof conf,
	         "local all " OWNER_ROLE " trust\n"
	         "host " DBNAME " " STUDENT_ROLE " 0.0.0.0/0 scram-sha-256\n"
	         "host " DBNAME " " STUDENT_ROLE " ::/0 scram-sha-256\n");
	{
		char hba[128], pgconf[128];

		snprintf(hba, sizeof hba, "%s/pg_hba.conf", h.data);
		snprintf(pgconf, sizeof pgconf, "%s/postgresql.conf", h.data);
		if (truncate(hba, 0) != 0 || append(hba, conf) != 0)
			goto conf_fail;
		snprintf(conf, sizeof conf,
		         "\n# racelab room host\n"
		         "listen_addresses = '%s'\nport = %s\nunix_socket_directories = '%s'\n"
		         "max_connections = 300\npassword_encryption = 'scram-sha-256'\n"
		         "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
		         listen, port, h.sock);
		if (append(pgconf, conf) != 0) {
conf_fail:
			fprintf(stderr, "racelab: cannot configure the server in %s\n", h.data);
			goto out;
		}
	}
	{
		const char *args[] = { "-D", h.data, "-l", h.server_log, "-w", "-t", "60", "-s", "start",
		                       NULL };

		if (run_pg(&h, "pg_ctl", args) != 0) {
			fprintf(stderr, "racelab: the server did not start on %s port %s (is the port"
			        " taken? try --port); its log:\n", listen, port);
			h.started = 1;          /* stop whatever did start */
			goto keep;
		}
		h.started = 1;
	}
	if (make_roles(&h, port, password, err, sizeof err)) {
		fprintf(stderr, "racelab: cannot set up the server: %s", err);
		goto out;
	}
	student_address(listen, addr, sizeof addr);
	printf("racelab room host: a throwaway PostgreSQL is listening on %s, port %s\n"
	       "  (its data: %s, removed when you stop it)\n\n", listen, port, h.dir);
	printf("Hand this to the students (their connection, password included):\n"
	       "  host=%s port=%s dbname=" DBNAME " user=" STUDENT_ROLE " password=%s\n\n",
	       addr, port, password);
	printf("Open the room on this machine:\n"
	       "  racelab room open -d 'host=%s port=%s dbname=" DBNAME " user=" OWNER_ROLE "'"
	       " --join-db 'host=%s port=%s dbname=" DBNAME " user=" STUDENT_ROLE "'\n\n",
	       h.sock, port, addr, port);
	printf("%s\n", isatty(STDIN_FILENO) ? "Ctrl-C stops the server and removes its data."
	       : "Closing stdin (or Ctrl-C) stops the server and removes its data.");
	fflush(stdout);
	memset(password, 0, sizeof password);

	/* Wait for Ctrl-C; without a terminal, for stdin to close as well. */
	while (!room_cmd_interrupted()) {
		struct pollfd fd = { STDIN_FILENO, POLLIN, 0 };
		int tty = isatty(STDIN_FILENO);

		if (poll(&fd, 1, tty ? -1 : 1000) > 0 && !tty) {
			char buf[256];

			if (read(STDIN_FILENO, buf, sizeof buf) <= 0)
				break;
		}
	}
	rc = 0;
out:
	host_stop(&h);
	if (rc == 0)
		printf("racelab room host: the server is stopped and its data removed\n");
	return rc;
keep:
	/* keep the log to read, but stop the server */
	if (h.started) {
		const char *args[] = { "-D", h.data, "-m", "immediate", "-w", "-s", "stop", NULL };

		run_pg(&h, "pg_ctl", args);
	}
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(i ? h.server_log : h.log, "r");
		char line[512];

		while (f && fgets(line, sizeof line, f))
			if (strstr(line, "ERROR") || strstr(line, "FATAL") || strstr(line, "error"))
				fputs(line, stderr);
		if (f)
			fclose(f);
	}
	h.started = 0;
	host_stop(&h);
	return rc;
}
