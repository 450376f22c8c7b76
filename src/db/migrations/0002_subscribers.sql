CREATE TABLE `subscribers` (
	`id` text PRIMARY KEY NOT NULL,
	`event_listener` text NOT NULL,
	`replicable` integer NOT NULL,
	`description` text,
	`postback_url` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscribers_event_listener_idx` ON `subscribers` (`event_listener`);