// What an mmap costs while another thread creates VMs, with and without 10,000 other
// mappings in the process (gmemd maps every shareable inode). KVM_CREATE_VM registers the
// VM's MMU notifier with the process's mmap lock held for writing, and that walks every
// mapping, so an mmap on the event loop would wait for it (src/kvm/native/libc.ts mmapAsync).
// Run by test/bench/kvm-rates.ts (npm run bench, section 1); prints one line per case:
//   <mappings> <vm-creates 0|1> <mean µs> <worst µs>
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static volatile int stop;
static int kvm;

static void *create_vms(void *arg) {
  (void)arg;
  while (!stop) { int vm = ioctl(kvm, KVM_CREATE_VM, 0); if (vm >= 0) close(vm); usleep(2000); }
  return NULL;
}

static int measure(int mappings, int creating) {
  int fd = memfd_create("gmemd-bench", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 65536) < 0) return -1;
  double worst = 0, sum = 0;
  const int n = 2000;
  for (int i = 0; i < n; i++) {
    double t = now_us();
    void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    double d = now_us() - t;
    if (p == MAP_FAILED) return -1;
    munmap(p, 65536);
    sum += d;
    if (d > worst) worst = d;
    usleep(100);
  }
  close(fd);
  printf("%d %d %.1f %.0f\n", mappings, creating, sum / n, worst);
  return 0;
}

int main(void) {
  kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { perror("/dev/kvm"); return 2; }
  int mapped = 0;
  for (int target = 0; target <= 10000; target += 10000) {
    for (; mapped < target; mapped++) {
      int fd = memfd_create("gmemd-bench", MFD_CLOEXEC);
      if (fd < 0 || ftruncate(fd, 65536) < 0) return 1;
      if (mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED) return 1;
      close(fd); // the mapping stays
    }
    if (measure(mapped, 0)) return 1;
    stop = 0;
    pthread_t th;
    if (pthread_create(&th, NULL, create_vms, NULL)) return 1;
    int r = measure(mapped, 1);
    stop = 1;
    pthread_join(th, NULL);
    if (r) return 1;
  }
  return 0;
}
