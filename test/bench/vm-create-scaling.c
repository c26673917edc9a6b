// What one KVM_CREATE_VM costs as the process holds more mappings: the kernel's own ceiling
// for the (f) mix, which leaves one VM and one mapped inode behind every four requests.
// KVM_CREATE_VM registers the VM's MMU notifier (mmu_notifier_register), and that calls
// mm_take_all_locks(): with the mmap lock held for writing it write-locks every VMA and the
// i_mmap lock of every mapped file, so each create walks all of the process's mappings.
// Distinct memfd files stand in for guest_memfd inodes (one file, one address_space each, as
// gmemd maps every shareable inode); their fds are closed, the mappings stay.
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
#include <time.h>
#include <unistd.h>

static int kvm;
static volatile int stop;
static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

struct worker { long creates; int failed; };

static void *create_vms(void *arg) {
  struct worker *w = arg;
  while (!stop) {
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) { w->failed = 1; return NULL; }
    close(vm);
    w->creates++;
  }
  return NULL;
}

/** Creates+closes VMs on `threads` threads for `seconds`; prints the aggregate rate. */
static int measure(int mappings, int threads, double seconds) {
  pthread_t th[16];
  struct worker w[16] = {0};
  stop = 0;
  double t0 = now_s();
  for (int i = 0; i < threads; i++) if (pthread_create(&th[i], NULL, create_vms, &w[i])) return 1;
  usleep((useconds_t)(seconds * 1e6));
  stop = 1;
  long total = 0;
  for (int i = 0; i < threads; i++) { pthread_join(th[i], NULL); total += w[i].creates; if (w[i].failed) return 1; }
  double elapsed = now_s() - t0;
  printf("%d %d %.0f %.1f\n", mappings, threads, total / elapsed, total ? elapsed * threads * 1e6 / total : 0);
  return 0;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  double seconds = argc > 2 ? atof(argv[2]) : 0.5;
  if (threads < 1 || threads > 16) return 2;
  kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { perror("/dev/kvm"); return 2; }
  static const int marks[] = {0, 2500, 5000, 10000, 20000};
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
