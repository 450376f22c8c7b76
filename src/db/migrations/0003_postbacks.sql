CREATE TABLE `postback_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`postback_id` text NOT NULL,
	`at` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`response_status` integer,
	`error` text,
	FOREIGN KEY (`postback_id`) REFERENCES `postbacks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `postback_attempts_postback_idx` ON `postback_attempts` (`postback_id`);--> statement-breakpoint
CREATE TABLE `postbacks` (
	`id` text PRIMARY KEY NOT NULL,
	`postback_url` text NOT NULL,
	`method` text NOT NULL,
	`headers` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`retries` integer NOT NULL,
	`max_retries` integer NOT NULL,
	`timeout_ms` integer,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`last_response_status` integer,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `postbacks_due_idx` ON `postbacks` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `postbacks_finished_idx` ON `postbacks` (`finished_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `postbacks_idempotency_key_idx` ON `postbacks` (`idempotency_key`);