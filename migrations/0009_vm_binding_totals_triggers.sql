-- Custom SQL migration file, put your code below! ---- vm_binding_totals counts, per VM, the active bindings the binding quota reads, where a
-- count(*) over bindings_active_slot_uq read every one of them on each bind (54 µs at 1,000
-- in a VM, 1.5 ms at 32,763). Seeded from the rows, then kept by these triggers in the
-- transaction of every write to bindings, whatever statement makes it (an insert, a state
-- change, the set-based lost marking). A VM whose bindings all ended keeps its row at 0.
INSERT INTO `vm_binding_totals` (`vm_id`, `bindings_active`)
  SELECT `vm_id`, count(*) FROM `bindings` WHERE `state` = 'active' GROUP BY `vm_id`;
--> statement-breakpoint
CREATE TRIGGER `vm_binding_totals_insert` AFTER INSERT ON `bindings` WHEN NEW.`state` = 'active' BEGIN
  INSERT INTO `vm_binding_totals` (`vm_id`, `bindings_active`) VALUES (NEW.`vm_id`, 1)
    ON CONFLICT (`vm_id`) DO UPDATE SET `bindings_active` = `bindings_active` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `vm_binding_totals_update` AFTER UPDATE OF `state`, `vm_id` ON `bindings`
  WHEN OLD.`state` = 'active' OR NEW.`state` = 'active' BEGIN
  UPDATE `vm_binding_totals` SET `bindings_active` = `bindings_active` - 1
    WHERE OLD.`state` = 'active' AND `vm_id` = OLD.`vm_id`;
  INSERT INTO `vm_binding_totals` (`vm_id`, `bindings_active`) SELECT NEW.`vm_id`, 1 WHERE NEW.`state` = 'active'
    ON CONFLICT (`vm_id`) DO UPDATE SET `bindings_active` = `bindings_active` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `vm_binding_totals_delete` AFTER DELETE ON `bindings` WHEN OLD.`state` = 'active' BEGIN
  UPDATE `vm_binding_totals` SET `bindings_active` = `bindings_active` - 1 WHERE `vm_id` = OLD.`vm_id`;
END;
