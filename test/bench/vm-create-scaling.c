// What one KVM_CREATE_VM costs as the process holds more mappings: the kernel's own ceiling
// for the (f) mix, which leaves one VM and one mapped inode behind every four requests.
// KVM_CREATE_VM registers the VM's MMU notifier (mmu_notifier_register), and that calls
// mm_take_all_locks(): with the mmap lock held for writing it write-locks every VMA and the
// i_mmap lock of every mapped file, so each create walks all of the process's mappings.
// Distinct memfd files stand in for guest_memfd inodes (one file, one address_space each, as
// gmemd maps every shareable inode); their fds are closed, the mappings stay. As in the mix,
// the VMs created stay open until the end (a VM's close is not timed: it waits for an SRCU
// grace period when it unregisters the notifier, which the mix never pays); each case stops
// after `seconds` or MAX_PER_CASE creates, and the kept VMs are closed between cases once
// they near HELD_MAX or the process's fd limit.
// Run by test/bench/kvm-rates.ts (npm run bench, section 1); one line per case:
//   <mappings> <threads> <creates per second, all threads> <mean µs per create>
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_PER_CASE 1500
#define HELD_MAX 8000
static int kvm;
static volatile int stop;
static int held[HELD_MAX];
static rlim_t fd_limit = 1024;
static volatile int nheld;
static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

struct worker { long creates; int failed; };
static volatile int budget;

static void *create_vms(void *arg) {
  struct worker *w = arg;
  while (!stop && __atomic_sub_fetch(&budget, 1, __ATOMIC_RELAXED) >= 0) {
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) { w->failed = 1; return NULL; }
    held[__atomic_fetch_add(&nheld, 1, __ATOMIC_RELAXED)] = vm; // kept open, as the mix keeps its VMs
    w->creates++;
  }
  return NULL;
}

/** Creates VMs on `threads` threads for `seconds` (or MAX_PER_CASE of them); prints the aggregate rate. */
static int measure(int mappings, int threads, double seconds) {
  pthread_t th[16];
  struct worker w[16] = {0};
  // Kept VMs are fds and kernel memory: past HELD_MAX (or near the fd limit) the earlier cases'
  // ones are closed first, untimed. The mappings, not the VMs, set a create's cost.
  if (nheld + MAX_PER_CASE + 64 > (int)(fd_limit < HELD_MAX ? fd_limit : HELD_MAX)) {
    for (int i = 0; i < nheld; i++) close(held[i]);
    nheld = 0;
  }
  stop = 0;
  budget = MAX_PER_CASE;
  double t0 = now_s();
  for (int i = 0; i < threads; i++) if (pthread_create(&th[i], NULL, create_vms, &w[i])) return 1;
  // Until the time is up or every create of the budget was made, whichever comes first.
  while (now_s() - t0 < seconds && budget > 0) usleep(1000);
  stop = 1;
  long total = 0;
  for (int i = 0; i < threads; i++) { pthread_join(th[i], NULL); total += w[i].creates; if (w[i].failed) { perror("KVM_CREATE_VM"); return 1; } }
  double elapsed = now_s() - t0;
  printf("%d %d %.0f %.1f\n", mappings, threads, total / elapsed, total ? elapsed * threads * 1e6 / total : 0);
  return 0;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  double seconds = argc > 2 ? atof(argv[2]) : 0.5;
  if (threads < 1 || threads > 16) return 2;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 || getrlimit(RLIMIT_NOFILE, &rl) == 0) fd_limit = rl.rlim_cur;
  }
  kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { perror("/dev/kvm"); return 2; }
  static const int marks[] = {0, 1000, 2500, 5000, 10000, 20000};
  int mapped = 0;
  for (unsigned m = 0; m < sizeof marks / sizeof marks[0]; m++) {
    for (; mapped < marks[m]; mapped++) {
      int fd = memfd_create("gmemd-bench", MFD_CLOEXEC);
      if (fd < 0 || ftruncate(fd, 65536) < 0) return 1;
      if (mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED) return 1;
      close(fd); // the mapping stays
    }
    if (measure(mapped, 1, seconds) || (threads > 1 && measure(mapped, threads, seconds))) return 1;
  }
  return 0;
}
