/*
 * bench/subreaper.c — runs a command as a child of a child subreaper that reaps promptly.
 *
 *   subreaper COMMAND [ARG...]
 *
 * The benchmark kills processes that were started detached by restart scripts ("adopted":
 * nobody's child). A killed orphan stays a zombie until whoever adopted it calls wait().
 * PID 1 on the benchmark machine does that only every ~1-1.5 s; the zombie keeps its pid
 * (and its /proc entry) meanwhile. So the whole bench runs below this wrapper: it sets
 * PR_SET_CHILD_SUBREAPER (every orphan of the tree below is re-parented here, not to PID 1),
 * forks COMMAND, and loops on waitpid(-1) so that adopted orphans are reaped the moment
 * they die. It exits with COMMAND's status.
 *
 * SIGUSR1 turns the subreaper flag off and SIGUSR2 on again (orphans made while it is off
 * go to PID 1): the bench uses this for its one "not a subreaper" comparison row.
 * SIGINT, SIGTERM and SIGHUP are forwarded to COMMAND.
 * COMMAND sees PROCSAFE_BENCH_SUBREAPER=<pid of this wrapper> in its environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child = 0;

static void on_toggle(int sig) {
  /* prctl is a plain system call: safe in a signal handler */
  prctl(PR_SET_CHILD_SUBREAPER, sig == SIGUSR2 ? 1UL : 0UL, 0UL, 0UL, 0UL);
}

static void on_forward(int sig) {
  if (child > 0) kill((pid_t)child, sig);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) != 0) {
    perror("subreaper: prctl(PR_SET_CHILD_SUBREAPER)");
    return 125;
  }
  char self[32];
  snprintf(self, sizeof self, "%ld", (long)getpid());
  setenv("PROCSAFE_BENCH_SUBREAPER", self, 1);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_toggle;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  sa.sa_handler = on_forward;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  pid_t pid = fork();
  if (pid < 0) {
    perror("subreaper: fork");
    return 125;
  }
  if (pid == 0) {
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "subreaper: cannot execute %s: %s\n", argv[1], strerror(errno));
    _exit(127);
  }
  child = pid;

  int status = 0;
  int code = -1;
  for (;;) {
    int st;
    pid_t r = waitpid(-1, &st, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nothing left */
    }
    if (r == pid) {
      status = st;
      code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
  }
  /* The command is gone: reap what is already dead and leave the rest to PID 1. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  (void)status;
  return code < 0 ? 125 : code;
}
