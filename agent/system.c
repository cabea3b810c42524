/* Helpers that touch the guest system: reading small files and running systemctl. Children
 * get a fixed environment and no inherited descriptors (everything else is O_CLOEXEC). */
#include "methods.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

const char *systemctl_path(void)
{
	if (access("/usr/bin/systemctl", X_OK) == 0)
		return "/usr/bin/systemctl";
	if (access("/bin/systemctl", X_OK) == 0)
		return "/bin/systemctl";
	return NULL;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void child_exec(const char *const argv[], int out_fd)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
				      "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", NULL };
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Its own group, so a timeout also kills whatever it started. */
	setpgid(0, 0);

	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 2);
	}
	dup2(out_fd, 1);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(argv[0], (char *const *)argv, envp);
	_exit(127);
}

/* Reads the child's stdout until EOF or the deadline; returns -1 on timeout. */
static int drain_output(int fd, char *out, size_t cap, long long deadline)
{
	size_t len = 0;
	char sink[512];

	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pfd = { fd, POLLIN, 0 };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		char *dst = len + 1 < cap ? out + len : sink;
		size_t room = len + 1 < cap ? cap - 1 - len : sizeof sink;
		ssize_t n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			len += (size_t)n;
		out[len] = '\0';
	}
	out[len] = '\0';
	return 0;
}

static int reap(pid_t pid, long long deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			if (kill(-pid, SIGKILL) < 0)
				kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(5000);
	}
}

int spawn_capture(const char *const argv[], char *out, size_t cap, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int fds[2];

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(argv, fds[1]);
	setpgid(pid, pid); /* both sides set it, so a kill cannot race the child's own call */
	close(fds[1]);
	int timed_out = drain_output(fds[0], out, cap, deadline) < 0;
	close(fds[0]);
	if (timed_out)
		deadline = now_ms();
	int status = reap(pid, deadline);
	return timed_out ? -1 : status;
}
