CREATE TABLE `tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tokens_live_name_uq` ON `tokens` (`name`) WHERE revoked_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX `tokens_live_secret_uq` ON `tokens` (`secret_hash`) WHERE revoked_at is null;