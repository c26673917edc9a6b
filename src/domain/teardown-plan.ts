// Which files close and which inodes are released when files close (VM destroy, revoke).
// An owner file takes every other file of its inode along (an inode has exactly one owner
// while live); an inode is released when none of its live files stays open.
interface FileLike { id: string; inodeId: string; role: string }

export function planClose<F extends FileLike>(requested: readonly F[], liveFilesOf: (inodeId: string) => readonly F[]): { files: F[]; released: string[] } {
  const closing = new Map<string, F>(requested.map((f) => [f.id, f]));
  for (const f of requested) {
    if (f.role !== 'owner') continue;
    for (const other of liveFilesOf(f.inodeId)) closing.set(other.id, other);
  }
  const files = [...closing.values()];
  const inodeIds = [...new Set(files.map((f) => f.inodeId))];
  const released = inodeIds.filter((id) => liveFilesOf(id).every((f) => closing.has(f.id)));
  return { files, released };
}
