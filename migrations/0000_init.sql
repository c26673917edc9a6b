CREATE TABLE `access_intervals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`inode_id` text NOT NULL,
	`file_id` text NOT NULL,
	`vm_id` text NOT NULL,
	`role` text NOT NULL,
	`permissions` text NOT NULL,
	`from_time` integer NOT NULL,
	`from_seq` integer NOT NULL,
	`to_time` integer,
	`to_seq` integer
);
--> statement-breakpoint
CREATE INDEX `access_inode_time_idx` ON `access_intervals` (`inode_id`,`from_time`);--> statement-breakpoint
CREATE INDEX `access_file_open_idx` ON `access_intervals` (`file_id`,`to_time`);--> statement-breakpoint
CREATE TABLE `bindings` (
	`id` text PRIMARY KEY NOT NULL,
	`file_id` text NOT NULL,
	`vm_id` text NOT NULL,
	`inode_id` text NOT NULL,
	`slot` integer NOT NULL,
	`gpa` integer NOT NULL,
	`offset` integer NOT NULL,
	`size` integer NOT NULL,
	`readonly` integer NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`vm_id`) REFERENCES `vms`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`inode_id`) REFERENCES `inodes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bindings_active_slot_uq` ON `bindings` (`vm_id`,`slot`) WHERE state = 'active';--> statement-breakpoint
CREATE INDEX `bindings_vm_idx` ON `bindings` (`vm_id`,`state`,`gpa`);--> statement-breakpoint
CREATE INDEX `bindings_file_idx` ON `bindings` (`file_id`,`id`);--> statement-breakpoint
CREATE INDEX `bindings_inode_idx` ON `bindings` (`inode_id`,`id`);--> statement-breakpoint
CREATE TABLE `checkpoints` (
	`seq` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`time` integer NOT NULL,
	`mac` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`time` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`outcome` text NOT NULL,
	`request_id` text,
	`vm_id` text,
	`inode_id` text,
	`file_id` text,
	`binding_id` text,
	`migration_id` text,
	`error_code` text,
	`errno` text,
	`operation` text,
	`details` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_action_idx` ON `events` (`action`,`seq`);--> statement-breakpoint
CREATE INDEX `events_vm_idx` ON `events` (`vm_id`,`seq`);--> statement-breakpoint
CREATE INDEX `events_inode_idx` ON `events` (`inode_id`,`seq`);--> statement-breakpoint
CREATE INDEX `events_file_idx` ON `events` (`file_id`,`seq`);--> statement-breakpoint
CREATE INDEX `events_time_idx` ON `events` (`time`);--> statement-breakpoint
CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`inode_id` text NOT NULL,
	`vm_id` text NOT NULL,
	`role` text NOT NULL,
	`permissions` text NOT NULL,
	`granted_by_file_id` text,
	`migration_id` text,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`inode_id`) REFERENCES `inodes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`vm_id`) REFERENCES `vms`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `files_one_live_per_vm_uq` ON `files` (`inode_id`,`vm_id`) WHERE state in ('open','pending');--> statement-breakpoint
CREATE INDEX `files_vm_idx` ON `files` (`vm_id`,`id`);--> statement-breakpoint
CREATE INDEX `files_inode_idx` ON `files` (`inode_id`,`id`);--> statement-breakpoint
CREATE TABLE `idempotency` (
	`key` text PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`status` integer NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `inodes` (
	`id` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`shareable` integer NOT NULL,
	`kernel_inode` integer NOT NULL,
	`origin_vm_id` text NOT NULL,
	`owner_vm_id` text NOT NULL,
	`labels` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`origin_vm_id`) REFERENCES `vms`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`owner_vm_id`) REFERENCES `vms`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `inodes_owner_idx` ON `inodes` (`owner_vm_id`,`id`);--> statement-breakpoint
CREATE INDEX `inodes_state_idx` ON `inodes` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `intents` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `intents_state_idx` ON `intents` (`state`);--> statement-breakpoint
CREATE TABLE `migrations` (
	`id` text PRIMARY KEY NOT NULL,
	`source_vm_id` text NOT NULL,
	`target_vm_id` text NOT NULL,
	`kind` text DEFAULT 'migration' NOT NULL,
	`state` text NOT NULL,
	`plan` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`source_vm_id`) REFERENCES `vms`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`target_vm_id`) REFERENCES `vms`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `migrations_state_idx` ON `migrations` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `vms` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`vm_type` integer DEFAULT 0 NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `vms_active_name_uq` ON `vms` (`name`) WHERE state = 'active';--> statement-breakpoint
CREATE INDEX `vms_state_idx` ON `vms` (`state`,`id`);