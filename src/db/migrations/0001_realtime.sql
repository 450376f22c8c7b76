CREATE TABLE `direct_queue` (
	`id` text NOT NULL,
	`recipient_id` text NOT NULL,
	`sender_id` text NOT NULL,
	`message` text NOT NULL,
	`metadata` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`recipient_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `friendships` (
	`user_id` text NOT NULL,
	`friend_id` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`user_id`, `friend_id`)
);
--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`sender_id` text NOT NULL,
	`content` text NOT NULL,
	`type` text NOT NULL,
	`client_message_id` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_room_id_idx` ON `messages` (`room_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_sender_client_id_idx` ON `messages` (`sender_id`,`client_message_id`);--> statement-breakpoint
CREATE TABLE `receipts` (
	`message_id` text NOT NULL,
	`user_id` text NOT NULL,
	`delivered_at` text NOT NULL,
	`read_at` text,
	PRIMARY KEY(`message_id`, `user_id`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `user_presence` (
	`user_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`last_seen` text
);
