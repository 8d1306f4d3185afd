// procsafe's optional native helpers (plain C N-API, no node-addon-api):
//   syslogSend(socketPath, message[, dontWait]) -> 0 | errno
//                                                   one datagram, blocking (~1 s send timeout) or,
//                                                   with dontWait, EAGAIN at once when the queue is
//                                                   full; '@name' is an abstract socket (sd_notify)
//   sendDontWait(fd, buffer) -> bytes | -errno      send(MSG_DONTWAIT) on a stream socket (stdout
//                                                   under systemd): never blocks, flags untouched
//   pidfdOpen(pid) -> fd                            throws Error{code: 'ESRCH'|'ENOSYS'|...}
//   pidfdWatch(fd, cb) -> handle                    cb() once, from the loop, when fd is readable
//   pidfdUnwatch(handle) -> bool                    true if it stopped a watch that had not fired
//   flockExclusive(fd) -> 0 | errno                 flock(LOCK_EX|LOCK_NB); EAGAIN: held elsewhere
// procsafe works without this addon (logger(1) child, /proc polling); see src/native/index.ts.

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* same number on every architecture but alpha */
#endif

#define CHECK(env, call)                                                     \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      throw_last_error(env, #call);                                          \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static void throw_last_error(napi_env env, const char* what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;  // keep the original exception (e.g. a TypeError from a getter)
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_PROCSAFE_NATIVE",
                   info && info->error_message ? info->error_message : what);
}

static const char* errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOSYS: return "ENOSYS";
    case ENODEV: return "ENODEV";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char* syscall_name, int e) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall_name, strerror(e), errno_name(e));
  napi_throw_error(env, errno_name(e), msg);  // the 2nd argument becomes err.code
  return NULL;
}

// ---------------------------------------------------------------------------------------
// syslog

// One socket for the whole process (shared by worker threads too: sendto() is thread-safe
// and the socket is never connected, so every call may name its own path).
static int syslog_fd = -1;
static uv_once_t syslog_once = UV_ONCE_INIT;
static int syslog_open_errno = 0;

static void syslog_open(void) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    syslog_open_errno = errno;
    return;
  }
  // Blocking send (a full syslog queue must not lose the line), but never stall the
  // supervisor for long if the daemon is wedged.
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  syslog_fd = fd;
}

static napi_value syslog_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "syslogSend(socketPath, message)");
    return NULL;
  }

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  socklen_t addr_len = sizeof addr;
  size_t path_len = 0;
  CHECK(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &path_len));
  napi_value result;
  // A path needs its NUL inside sun_path; an abstract name ('@' + up to 107 bytes) does not.
  if (path_len == 0 || path_len > sizeof addr.sun_path) {
    CHECK(env, napi_create_int32(env, path_len == 0 ? ENOENT : ENAMETOOLONG, &result));
    return result;
  }
  char path[sizeof addr.sun_path + 1];
  CHECK(env, napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len));
  if (path[0] == '@') {
    // "@name" is "name" in the abstract namespace, as in systemd's NOTIFY_SOCKET: sun_path
    // starts with a NUL and the address length counts the name's bytes exactly.
    if (path_len < 2) {
      CHECK(env, napi_create_int32(env, EINVAL, &result));
      return result;
    }
    memcpy(addr.sun_path + 1, path + 1, path_len - 1);
    addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
  } else {
    if (path_len >= sizeof addr.sun_path) {
      CHECK(env, napi_create_int32(env, ENAMETOOLONG, &result));
      return result;
    }
    memcpy(addr.sun_path, path, path_len + 1);
  }

  size_t len = 0;
  CHECK(env, napi_get_value_string_utf8(env, argv[1], NULL, 0, &len));
  char* msg = malloc(len + 1);
  if (!msg) return throw_errno(env, "malloc", ENOMEM);
  if (napi_get_value_string_utf8(env, argv[1], msg, len + 1, &len) != napi_ok) {
    free(msg);
    throw_last_error(env, "napi_get_value_string_utf8");
    return NULL;
  }

  bool dont_wait = false;
  if (argc >= 3 && napi_get_value_bool(env, argv[2], &dont_wait) != napi_ok) dont_wait = false;
  uv_once(&syslog_once, syslog_open);
  int err = 0;
  if (syslog_fd < 0) {
    err = syslog_open_errno;
  } else {
    ssize_t n;
    do {
      n = sendto(syslog_fd, msg, len, MSG_NOSIGNAL | (dont_wait ? MSG_DONTWAIT : 0), (struct sockaddr*)&addr, addr_len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) err = errno;
  }
  free(msg);
  CHECK(env, napi_create_int32(env, err, &result));
  return result;
}

// One send() with MSG_DONTWAIT: a full socket buffer returns EAGAIN instead of blocking, and
// the file status flags (shared with whoever else holds the socket) stay as they are.
static napi_value send_dont_wait(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  bool is_buffer = false;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, NULL, "sendDontWait(fd, buffer)");
    return NULL;
  }
  void* data = NULL;
  size_t len = 0;
  CHECK(env, napi_get_buffer_info(env, argv[1], &data, &len));
  ssize_t n;
  do {
    n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  napi_value result;
  CHECK(env, napi_create_int64(env, n < 0 ? -(int64_t)errno : (int64_t)n, &result));
  return result;
}

// ---------------------------------------------------------------------------------------
// pidfd

static napi_value pidfd_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t pid = 0;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &pid) != napi_ok || pid <= 0 || pid > INT32_MAX) {
    napi_throw_type_error(env, NULL, "pidfdOpen(pid): pid must be a positive integer");
    return NULL;
  }
  // pidfds are always close-on-exec, so supervised children never inherit them.
  long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return throw_errno(env, "pidfd_open", errno);
  napi_value result;
  CHECK(env, napi_create_int32(env, (int32_t)fd, &result));
  return result;
}

// Per-environment state (main thread, or one worker), so that a worker that ends with
// live watches closes them before its loop is closed.
typedef struct instance {
  struct watch* head;  // watches whose uv handle is open (polling or closing)
  int refs;            // 1 for the env + 1 per open uv handle
  bool env_gone;       // napi finalized the env: its references are already freed
  bool tearing_down;
  napi_async_cleanup_hook_handle cleanup;
} instance;

enum { W_POLLING, W_CLOSING, W_CLOSED };

typedef struct watch {
  uv_poll_t poll;  // first, so a uv_handle_t* is a watch*
  int fd;
  int state;
  bool owns_fd;  // false until pidfdWatch() succeeds: on failure the fd stays the caller's
  bool js_gone;  // the JS handle object was collected
  napi_env env;
  napi_ref callback;
  napi_async_context async_ctx;
  instance* inst;
  struct watch* prev;
  struct watch* next;
} watch;

static const napi_type_tag watch_tag = {0x70726f6373616665ULL, 0x7069646664776174ULL};

static void instance_unref(instance* inst) {
  if (--inst->refs == 0) free(inst);
}

static void watch_closed(uv_handle_t* h) {
  watch* w = (watch*)h;
  instance* inst = w->inst;
  if (w->owns_fd) close(w->fd);
  if (!inst->env_gone) {
    if (w->callback) napi_delete_reference(w->env, w->callback);
    if (w->async_ctx) napi_async_destroy(w->env, w->async_ctx);
  }
  if (w->prev) w->prev->next = w->next; else inst->head = w->next;
  if (w->next) w->next->prev = w->prev;
  w->state = W_CLOSED;
  // Done with teardown once the last handle is closed.
  if (inst->tearing_down && inst->head == NULL && inst->cleanup) {
    napi_async_cleanup_hook_handle hook = inst->cleanup;
    inst->cleanup = NULL;
    napi_remove_async_cleanup_hook(hook);
  }
  if (w->js_gone) free(w);
  instance_unref(inst);
}

static void watch_close(watch* w) {
  if (w->state != W_POLLING) return;
  w->state = W_CLOSING;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t*)&w->poll, watch_closed);
}

static void watch_fired(uv_poll_t* p, int status, int events) {
  watch* w = (watch*)p;
  if (w->state != W_POLLING) return;
  // Close first: the callback may call pidfdUnwatch(), and a throwing callback must not
  // leave the handle open.
  watch_close(w);
  if (w->inst->tearing_down || w->inst->env_gone) return;

  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, ignored;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok) {  // napi_make_callback wants an object receiver
    // napi_make_callback runs the microtasks and async_hooks like any libuv callback.
    if (napi_make_callback(env, w->async_ctx, recv, cb, 0, NULL, &ignored) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void watch_finalize(napi_env env, void* data, void* hint) {
  watch* w = data;
  w->js_gone = true;
  if (w->state == W_CLOSED) free(w);  // otherwise watch_closed() frees it
}

static napi_value pidfd_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  instance* inst = NULL;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(env, napi_get_instance_data(env, (void**)&inst));
  int32_t fd = -1;
  napi_valuetype cb_type = napi_undefined;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_typeof(env, argv[1], &cb_type) != napi_ok || cb_type != napi_function) {
    napi_throw_type_error(env, NULL, "pidfdWatch(fd, callback)");
    return NULL;
  }
  if (inst == NULL || inst->tearing_down) {
    napi_throw_error(env, "ERR_PROCSAFE_NATIVE", "pidfdWatch: environment is shutting down");
    return NULL;
  }

  uv_loop_t* loop = NULL;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  watch* w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "calloc", ENOMEM);
  // On failure below the fd stays the caller's to close.
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  w->fd = fd;
  w->env = env;
  w->inst = inst;
  w->state = W_POLLING;
  inst->refs++;
  w->next = inst->head;
  if (inst->head) inst->head->prev = w;
  inst->head = w;

  napi_value handle, name, resource;
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok ||
      napi_create_string_utf8(env, "procsafe.pidfd", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_object(env, &resource) != napi_ok ||
      napi_async_init(env, resource, name, &w->async_ctx) != napi_ok ||
      napi_create_object(env, &handle) != napi_ok ||
      napi_type_tag_object(env, handle, &watch_tag) != napi_ok) {
    w->js_gone = true;  // no JS object owns w: watch_closed() frees it
    watch_close(w);
    throw_last_error(env, "pidfdWatch");
    return NULL;
  }
  if (napi_wrap(env, handle, w, watch_finalize, NULL, NULL) != napi_ok) {
    w->js_gone = true;
    watch_close(w);
    throw_last_error(env, "napi_wrap");
    return NULL;
  }
  rc = uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, watch_fired);
  if (rc != 0) {
    watch_close(w);  // w is freed by watch_finalize() or watch_closed(), whichever is last
    return throw_errno(env, "uv_poll_start", -rc);
  }
  w->owns_fd = true;
  return handle;
}

static napi_value pidfd_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool ours = false;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_object || napi_check_object_type_tag(env, argv[0], &watch_tag, &ours) != napi_ok || !ours) {
    napi_throw_type_error(env, NULL, "pidfdUnwatch(handle): not a handle from pidfdWatch()");
    return NULL;
  }
  watch* w = NULL;
  CHECK(env, napi_unwrap(env, argv[0], (void**)&w));
  bool stopped = w->state == W_POLLING;
  watch_close(w);
  napi_value result;
  CHECK(env, napi_get_boolean(env, stopped, &result));
  return result;
}

// A worker's loop must have no open handles when it is closed: close ours, and tell Node
// we are done once the last close callback ran.
static void instance_cleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  instance* inst = arg;
  inst->tearing_down = true;
  inst->cleanup = hook;
  for (watch* w = inst->head; w; w = w->next) watch_close(w);
  if (inst->head == NULL) {
    inst->cleanup = NULL;
    napi_remove_async_cleanup_hook(hook);
  }
}

static void instance_finalize(napi_env env, void* data, void* hint) {
  instance* inst = data;
  inst->env_gone = true;
  instance_unref(inst);
}

// ---------------------------------------------------------------------------------------
// flock

// The lock of one state file per pcheck (src/state/state-claim.ts). It belongs to the open file
// description, so the kernel drops it when the process ends, however it ends; fds opened by
// Node are close-on-exec, so restart scripts and the programs they start never hold it.
static napi_value flock_exclusive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "flockExclusive(fd): fd must be a non-negative integer");
    return NULL;
  }
  int err = 0;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EINTR) {
      err = errno;
      break;
    }
  }
  napi_value result;
  CHECK(env, napi_create_int32(env, err, &result));
  return result;
}

// ---------------------------------------------------------------------------------------

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  instance* inst = calloc(1, sizeof *inst);
  if (!inst) return throw_errno(env, "calloc", ENOMEM);
  inst->refs = 1;
  if (napi_set_instance_data(env, inst, instance_finalize, NULL) != napi_ok) {
    free(inst);
    throw_last_error(env, "napi_set_instance_data");
    return NULL;
  }
  napi_add_async_cleanup_hook(env, instance_cleanup, inst, NULL);

  napi_property_descriptor props[] = {
      {"syslogSend", NULL, syslog_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendDontWait", NULL, send_dont_wait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pidfdOpen", NULL, pidfd_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pidfdWatch", NULL, pidfd_watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pidfdUnwatch", NULL, pidfd_unwatch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flockExclusive", NULL, flock_exclusive, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
