// The C reference for bench/kvm-rates.ts: the same four loops gmemd's native adapter runs
// through koffi, here as plain ioctls, so the Node/C ratio isolates the cost of the FFI and
// the adapter. Modelled on shared/kernel-probes/probe-rates.c. Compiled at bench time with
// gcc -O2; argv[1] = iterations. Output, one line per loop, for the parent to parse:
//   <loop> <iterations> <seconds> <failures>
// Exit 2 (message on stderr) when /dev/kvm or a VM cannot be opened: no numbers are invented.
// Built with -shared -fPIC -DKVM_RATES_LIB it has no main and exports the create+close loop
// (kvm_rates_gmem_create_close), which kvm-rates.ts calls once a round through koffi: the same C
// loop inside the Node process, with its threads, fd table and address space, so against it
// only the FFI and the adapter differ, not the process the kernel works for.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

// Debian 12's <linux/kvm.h> (6.1) lacks the guest_memfd uapi, so the layouts are spelled
// out here, checked against the sizes in KERNEL.md §1.
#define KVMIO 0xAE
struct umr2 { uint32_t slot, flags; uint64_t gpa, size, uaddr, gmem_off; uint32_t gmem_fd, pad1; uint64_t pad2[14]; };
struct gmem_args { uint64_t size, flags, reserved[6]; };
_Static_assert(sizeof(struct umr2) == 160, "kvm_userspace_memory_region2 is 160 bytes");
_Static_assert(sizeof(struct gmem_args) == 64, "kvm_create_guest_memfd is 64 bytes");
#define KVM_CREATE_VM _IO(KVMIO, 0x01)
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct umr2)
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct gmem_args)
#define KVM_MEM_GUEST_MEMFD 4u
#define GMEM_FLAGS 3u /* MMAP | INIT_SHARED: what gmemd uses for a shareable inode */
#define MiB (1ull << 20)
#define VM_LOOP_DIVISOR 40 /* as VM_LOOP_DIVISOR in kvm-loops.ts */

#ifndef KVM_RATES_LIB // the loop library needs neither
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Same field values as the Node loop (and as gmemd's memslots.ts: a delete passes flags 0).
static int setr2(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, uint64_t ua, int fd) {
  struct umr2 r = {.slot = slot, .flags = flags, .gpa = gpa, .size = size, .uaddr = ua, .gmem_fd = (uint32_t)fd};
  return ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r);
}
#endif

static int create_gmem(int vm, uint64_t size) {
  struct gmem_args g = {.size = size, .flags = GMEM_FLAGS};
  return ioctl(vm, KVM_CREATE_GUEST_MEMFD, &g);
}

// One guest_memfd create (2 MiB, flags 3) + close per iteration; returns the failures.
#ifdef KVM_RATES_LIB
int kvm_rates_gmem_create_close(int vm, int n) {
#else
static int gmem_create_close(int vm, int n) {
#endif
  int fails = 0;
  for (int i = 0; i < n; i++) {
    int fd = create_gmem(vm, 2 * MiB);
    if (fd < 0) fails++; else close(fd);
  }
  return fails;
}

#ifdef KVM_RATES_LIB
// close(-1) n times (EBADF each time): a system call that fails at once, so its time in C
// against the same calls through koffi is koffi's per-call overhead.
int kvm_rates_close_invalid(int n);
int kvm_rates_close_invalid(int n) {
  int fails = 0;
  for (int i = 0; i < n; i++) fails += close(-1) == 0;
  return fails;
}
#endif

#ifndef KVM_RATES_LIB
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { fprintf(stderr, "open /dev/kvm: %s\n", strerror(errno)); return 2; }
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) { fprintf(stderr, "KVM_CREATE_VM: %s\n", strerror(errno)); return 2; }

  {
    double t = now();
    int fails = gmem_create_close(vm, n);
    printf("gmem-create-close %d %.9f %d\n", n, now() - t, fails);
  }

  int g = create_gmem(vm, 4 * MiB);
  if (g < 0) { fprintf(stderr, "KVM_CREATE_GUEST_MEMFD: %s\n", strerror(errno)); return 2; }

  { // gmem memslot: create 2 MiB at gpa 0 from offset 0, then delete (memory_size 0)
    int fails = 0;
    double t = now();
    for (int i = 0; i < n; i++) {
      if (setr2(vm, 0, KVM_MEM_GUEST_MEMFD, 0, 2 * MiB, 0, g)) fails++;
      if (setr2(vm, 0, 0, 0, 0, 0, 0)) fails++;
    }
    printf("gmem-slot-pair %d %.9f %d\n", n, now() - t, fails);
  }

  { // view memslot: a plain slot over a MAP_SHARED mapping of the gmem, as gmemd binds grantees
    char *m = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
    if (m == MAP_FAILED) { fprintf(stderr, "mmap gmem: %s\n", strerror(errno)); return 2; }
    int fails = 0;
    double t = now();
    for (int i = 0; i < n; i++) {
      if (setr2(vm, 1, 0, 64 * MiB, 2 * MiB, (uint64_t)(uintptr_t)m, 0)) fails++;
      if (setr2(vm, 1, 0, 64 * MiB, 0, 0, 0)) fails++;
    }
    printf("view-slot-pair %d %.9f %d\n", n, now() - t, fails);
    munmap(m, 2 * MiB);
  }

  close(g);
  close(vm);

  { // a VM: KVM_CREATE_VM + close, fewer times (each costs the kernel hundreds of µs)
    int nv = n / VM_LOOP_DIVISOR > 0 ? n / VM_LOOP_DIVISOR : 1, fails = 0;
    double t = now();
    for (int i = 0; i < nv; i++) {
      int v = ioctl(kvm, KVM_CREATE_VM, 0);
      if (v < 0) fails++; else close(v);
    }
    printf("vm-create-close %d %.9f %d\n", nv, now() - t, fails);
  }
  close(kvm);
  return 0;
}
#endif
