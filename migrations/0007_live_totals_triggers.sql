-- Custom SQL migration file, put your code below! --
-- live_totals (one row) counts what the quota checks read: active VMs, live inodes and their
-- bytes. Seeded from the rows, then kept by these triggers in the same transaction as every
-- write to vms and inodes, whatever statement makes it (an insert, a state change, the
-- set-based lost marking of a start-up). The states are the vocabulary's: 'active', 'live'.
INSERT INTO `live_totals` (`id`, `vms_active`, `inodes_live`, `inode_bytes_live`) VALUES (1,
  (SELECT count(*) FROM `vms` WHERE `state` = 'active'),
  (SELECT count(*) FROM `inodes` WHERE `state` = 'live'),
  (SELECT coalesce(sum(`size`), 0) FROM `inodes` WHERE `state` = 'live'));
--> statement-breakpoint
CREATE TRIGGER `live_totals_vms_insert` AFTER INSERT ON `vms` WHEN NEW.`state` = 'active' BEGIN
  UPDATE `live_totals` SET `vms_active` = `vms_active` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_totals_vms_update` AFTER UPDATE OF `state` ON `vms` WHEN (OLD.`state` = 'active') <> (NEW.`state` = 'active') BEGIN
  UPDATE `live_totals` SET `vms_active` = `vms_active` + (NEW.`state` = 'active') - (OLD.`state` = 'active') WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_totals_vms_delete` AFTER DELETE ON `vms` WHEN OLD.`state` = 'active' BEGIN
  UPDATE `live_totals` SET `vms_active` = `vms_active` - 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_totals_inodes_insert` AFTER INSERT ON `inodes` WHEN NEW.`state` = 'live' BEGIN
  UPDATE `live_totals` SET `inodes_live` = `inodes_live` + 1, `inode_bytes_live` = `inode_bytes_live` + NEW.`size` WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_totals_inodes_update` AFTER UPDATE OF `state`, `size` ON `inodes`
  WHEN OLD.`state` = 'live' OR NEW.`state` = 'live' BEGIN
  UPDATE `live_totals` SET
    `inodes_live` = `inodes_live` + (NEW.`state` = 'live') - (OLD.`state` = 'live'),
    `inode_bytes_live` = `inode_bytes_live` + (CASE WHEN NEW.`state` = 'live' THEN NEW.`size` ELSE 0 END)
      - (CASE WHEN OLD.`state` = 'live' THEN OLD.`size` ELSE 0 END)
  WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_totals_inodes_delete` AFTER DELETE ON `inodes` WHEN OLD.`state` = 'live' BEGIN
  UPDATE `live_totals` SET `inodes_live` = `inodes_live` - 1, `inode_bytes_live` = `inode_bytes_live` - OLD.`size` WHERE `id` = 1;
END;
