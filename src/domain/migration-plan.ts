// A migration's plan: every file of the source VM gets a file for the target with the same
// role and permissions, and every memslot of the source is mirrored (slot, gpa, offset,
// size) in the target. The target's own memslots must not collide with the mirror.
import { err, ok, type Result } from './result.js';
import { overlaps } from './ranges.js';

export interface PlanFile { sourceFileId: string; inodeId: string; role: 'owner' | 'grantee'; permissions: string[]; shareable: boolean }
export interface PlanSlot { sourceBindingId: string; sourceFileId: string; inodeId: string; slot: number; gpa: number; offset: number; size: number }
export interface MigrationPlan { files: PlanFile[]; memslots: PlanSlot[] }

interface SlotLike { id: string; fileId: string; inodeId: string; slot: number; gpa: number; offset: number; size: number }

export function planMigration(files: PlanFile[], sourceSlots: SlotLike[], targetSlots: SlotLike[], targetInodes: Set<string>): Result<MigrationPlan> {
  if (files.length === 0) return err('migration.nothing_to_move', 'the source VM holds no open file');
  const privateInodes = files.filter((f) => !f.shareable).map((f) => f.inodeId);
  if (privateInodes.length > 0) {
    return err('inode.not_shareable', 'private inodes cannot move to another VM on this kernel', { inodeIds: privateInodes });
  }
  const held = files.filter((f) => targetInodes.has(f.inodeId)).map((f) => f.inodeId);
  if (held.length > 0) return err('migration.conflict', 'the target VM already holds files on these inodes', { inodeIds: held });
  const conflicts: { sourceBindingId: string; targetBindingId: string; reason: 'gpa' | 'slot' }[] = [];
  for (const s of sourceSlots) {
    for (const t of targetSlots) {
      if (overlaps(s.gpa, s.size, t.gpa, t.size)) conflicts.push({ sourceBindingId: s.id, targetBindingId: t.id, reason: 'gpa' });
      else if (s.slot === t.slot) conflicts.push({ sourceBindingId: s.id, targetBindingId: t.id, reason: 'slot' });
    }
  }
  if (conflicts.length > 0) return err('migration.conflict', 'the target VM\'s memslots collide with the source\'s', { conflicts });
  return ok({
    files,
    memslots: sourceSlots.map((s) => ({ sourceBindingId: s.id, sourceFileId: s.fileId, inodeId: s.inodeId, slot: s.slot, gpa: s.gpa, offset: s.offset, size: s.size })),
  });
}
