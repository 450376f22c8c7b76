CREATE TABLE `gateway_nodes` (
	`node_id` text PRIMARY KEY NOT NULL,
	`started_at` text NOT NULL,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `node_users` (
	`node_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`node_id`, `user_id`)
);
