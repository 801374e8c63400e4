/* The real node's sandbox process: it holds a pod's namespaces, reaps the
 * children it inherits and exits on SIGINT or SIGTERM. Built statically by
 * localcluster/build.py and pushed as the sandbox image containerd uses. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { _exit(sig == SIGTERM || sig == SIGINT ? 0 : 1); }

static void reap(int sig) {
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

int main(void) {
	struct sigaction on_quit = {.sa_handler = quit};
	struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
	if (getpid() != 1) {
		return 1; /* only meaningful as a pod's first process */
	}
	if (sigaction(SIGINT, &on_quit, NULL) || sigaction(SIGTERM, &on_quit, NULL) ||
	    sigaction(SIGCHLD, &on_child, NULL)) {
		return 2;
	}
	for (;;) {
		pause();
	}
}
