CREATE TABLE "direct_queue" (
	"id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"sender_id" text NOT NULL,
	"message" text NOT NULL,
	"metadata" jsonb,
	"created_at" text NOT NULL,
	CONSTRAINT "direct_queue_recipient_id_id_pk" PRIMARY KEY("recipient_id","id")
);
--> statement-breakpoint
CREATE TABLE "friendships" (
	"user_id" text NOT NULL,
	"friend_id" text NOT NULL,
	"created_at" text NOT NULL,
	CONSTRAINT "friendships_user_id_friend_id_pk" PRIMARY KEY("user_id","friend_id")
);
--> statement-breakpoint
CREATE TABLE "instance_meta" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text PRIMARY KEY NOT NULL,
	"room_id" text NOT NULL,
	"sender_id" text NOT NULL,
	"content" text NOT NULL,
	"type" text NOT NULL,
	"client_message_id" text,
	"created_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "postback_attempts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "postback_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"postback_id" text NOT NULL,
	"at" text NOT NULL,
	"duration_ms" integer NOT NULL,
	"response_status" integer,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "postbacks" (
	"id" text PRIMARY KEY NOT NULL,
	"postback_url" text NOT NULL,
	"method" text NOT NULL,
	"headers" jsonb NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text NOT NULL,
	"retries" integer NOT NULL,
	"max_retries" integer NOT NULL,
	"timeout_ms" integer,
	"next_attempt_at" bigint NOT NULL,
	"last_error" text,
	"last_response_status" integer,
	"idempotency_key" text,
	"request_hash" text NOT NULL,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL,
	"finished_at" bigint,
	"lease_until" bigint
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"message_id" text NOT NULL,
	"user_id" text NOT NULL,
	"delivered_at" text NOT NULL,
	"read_at" text,
	CONSTRAINT "receipts_message_id_user_id_pk" PRIMARY KEY("message_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "subscribers" (
	"id" text PRIMARY KEY NOT NULL,
	"event_listener" text NOT NULL,
	"replicable" boolean NOT NULL,
	"description" text,
	"postback_url" text,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_presence" (
	"user_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"last_seen" text
);
--> statement-breakpoint
ALTER TABLE "postback_attempts" ADD CONSTRAINT "postback_attempts_postback_id_postbacks_id_fk" FOREIGN KEY ("postback_id") REFERENCES "public"."postbacks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_room_id_idx" ON "messages" USING btree ("room_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_sender_client_id_idx" ON "messages" USING btree ("sender_id","client_message_id");--> statement-breakpoint
CREATE INDEX "postback_attempts_postback_idx" ON "postback_attempts" USING btree ("postback_id");--> statement-breakpoint
CREATE INDEX "postbacks_due_idx" ON "postbacks" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "postbacks_finished_idx" ON "postbacks" USING btree ("finished_at");--> statement-breakpoint
CREATE UNIQUE INDEX "postbacks_idempotency_key_idx" ON "postbacks" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "subscribers_event_listener_idx" ON "subscribers" USING btree ("event_listener");