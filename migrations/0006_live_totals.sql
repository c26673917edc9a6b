CREATE TABLE `live_totals` (
	`id` integer PRIMARY KEY NOT NULL,
	`vms_active` integer NOT NULL,
	`inodes_live` integer NOT NULL,
	`inode_bytes_live` integer NOT NULL
);
