DROP INDEX `bindings_file_idx`;--> statement-breakpoint
DROP INDEX `bindings_inode_idx`;--> statement-breakpoint
CREATE INDEX `bindings_file_idx` ON `bindings` (`file_id`,`state`,`id`);--> statement-breakpoint
CREATE INDEX `bindings_inode_idx` ON `bindings` (`inode_id`,`state`,`id`);--> statement-breakpoint
DROP INDEX `files_vm_idx`;--> statement-breakpoint
DROP INDEX `files_inode_idx`;--> statement-breakpoint
CREATE INDEX `files_vm_idx` ON `files` (`vm_id`,`state`,`id`);--> statement-breakpoint
CREATE INDEX `files_inode_idx` ON `files` (`inode_id`,`state`,`id`);