CREATE TABLE `vm_binding_totals` (
	`vm_id` text PRIMARY KEY NOT NULL,
	`bindings_active` integer NOT NULL
);
