-- Contact-form inquiries (issue 5).
--
-- Visitors' requests reach this table through PostgREST as role `anon` (the
-- publishable key) or `authenticated`; they may INSERT and nothing else, so a
-- leaked publishable key cannot read a single inquiry. The CHECK constraints
-- repeat edge/contact.py's validation, so a bug in the handler (or a direct
-- call to the REST API that skips the handler) cannot store what the form
-- would refuse. No IP address, user agent or location column exists on purpose.
--
-- Retention: inquiries are deleted once older than the period in site.yaml
-- (privacy.retention.inquiries_months). A migration is static SQL, so the
-- period lives in public.retention_settings; `sitegen retention`
-- (edge.retention.run) writes site.yaml's value there, and the nightly pg_cron
-- job reads it.

create table if not exists public.inquiries (
  id          bigint generated always as identity primary key,
  created_at  timestamptz not null default now(),
  region      text not null,
  service     text,
  name        text not null,
  email       text not null,
  phone       text,
  company     text,
  message     text not null,
  consent_at  timestamptz not null,

  constraint inquiries_region_format check (region ~ '^[a-z][a-z0-9_-]{0,31}$'),
  constraint inquiries_service_format check (service is null or service ~ '^[a-z0-9][a-z0-9_-]{0,79}$'),
  -- One-line fields: 1..N characters, trimmed, no control, line-separator or bidi-override characters.
  constraint inquiries_name_shape check (
    char_length(name) between 1 and 100 and name = btrim(name)
    and name !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]'
  ),
  constraint inquiries_email_shape check (
    char_length(email) between 3 and 254
    and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
    and email !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]'
  ),
  -- E.164 as the handler formats it with phonenumbers.
  constraint inquiries_phone_e164 check (phone is null or phone ~ '^\+[1-9][0-9]{3,14}$'),
  constraint inquiries_company_shape check (
    company is null or (
      char_length(company) between 1 and 120 and company = btrim(company)
      and company !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]'
    )
  ),
  -- The message may span lines (LF only: the handler turns CRLF into LF).
  constraint inquiries_message_shape check (
    char_length(message) between 10 and 5000
    and message !~ '[\u0001-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]'
  )
);

comment on table public.inquiries is
  'Contact-form inquiries. anon/authenticated may insert only; purged after retention_settings.inquiries_months.';

create index if not exists inquiries_created_at_idx on public.inquiries (created_at);

-- Supabase's default privileges grant ALL on new tables to anon and
-- authenticated; take that back and grant exactly what the form needs. The
-- column list leaves out id and created_at, so a visitor cannot backdate or
-- future-date a row to dodge the retention purge.
revoke all on table public.inquiries from public, anon, authenticated;
grant insert (region, service, name, email, phone, company, message, consent_at)
  on table public.inquiries to anon, authenticated;
grant select, insert, update, delete on table public.inquiries to service_role;

alter table public.inquiries enable row level security;
-- Forced, so even the table owner goes through the policies below (service_role
-- and superusers still bypass RLS as on any Supabase project).
alter table public.inquiries force row level security;

drop policy if exists inquiries_visitor_insert on public.inquiries;
create policy inquiries_visitor_insert on public.inquiries
  for insert to anon, authenticated
  -- Consent is given when the form is sent, not at an arbitrary other time.
  with check (consent_at between now() - interval '1 day' and now() + interval '5 minutes');

-- The purge runs as the table owner (SECURITY DEFINER). This policy lets the
-- owner delete, but only rows older than the shortest allowed retention, so
-- even a mistaken call cannot delete recent inquiries.
drop policy if exists inquiries_owner_purge on public.inquiries;
create policy inquiries_owner_purge on public.inquiries
  for delete to postgres
  using (created_at < now() - interval '1 month');
drop policy if exists inquiries_owner_read on public.inquiries;
create policy inquiries_owner_read on public.inquiries
  for select to postgres
  using (true);

-- ---------------------------------------------------------------------------
-- Retention settings: one row per retention period, written from site.yaml.
-- ---------------------------------------------------------------------------
create table if not exists public.retention_settings (
  name        text primary key check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  months      integer not null check (months between 1 and 120),
  updated_at  timestamptz not null default now()
);

comment on table public.retention_settings is
  'Retention periods in months, copied from site.yaml privacy.retention by `sitegen retention`.';

revoke all on table public.retention_settings from public, anon, authenticated;
grant select, insert, update on table public.retention_settings to service_role;
alter table public.retention_settings enable row level security;
-- No policies: only roles that bypass RLS (service_role, superusers) and the
-- SECURITY DEFINER functions below touch it.

insert into public.retention_settings (name, months)
values ('inquiries_months', 12)
on conflict (name) do nothing;

-- Delete inquiries older than `months` (default: the stored setting, else 12).
create or replace function public.purge_old_inquiries(months integer default null)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  period integer;
  deleted integer;
begin
  period := coalesce(
    months,
    (select s.months from public.retention_settings s where s.name = 'inquiries_months'),
    12
  );
  if period < 1 or period > 120 then
    raise exception 'retention must be between 1 and 120 months, got %', period
      using errcode = '22023';
  end if;
  delete from public.inquiries i
  where i.created_at < now() - make_interval(months => period);
  get diagnostics deleted = row_count;
  return deleted;
end;
$$;

comment on function public.purge_old_inquiries(integer) is
  'Deletes inquiries older than the given months, or than retention_settings.inquiries_months.';

-- Store site.yaml's period and purge with it right away (called by `sitegen retention`).
create or replace function public.apply_inquiry_retention(months integer)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
begin
  if months is null or months < 1 or months > 120 then
    raise exception 'retention must be between 1 and 120 months, got %', months
      using errcode = '22023';
  end if;
  insert into public.retention_settings as s (name, months, updated_at)
  values ('inquiries_months', months, now())
  on conflict (name) do update set months = excluded.months, updated_at = excluded.updated_at;
  return public.purge_old_inquiries(months);
end;
$$;

comment on function public.apply_inquiry_retention(integer) is
  'Sets retention_settings.inquiries_months and purges with it; returns the number of deleted inquiries.';

-- Functions are executable by PUBLIC by default (and Supabase's default
-- privileges add anon/authenticated): only the service role and the owner may purge.
revoke all on function public.purge_old_inquiries(integer) from public, anon, authenticated;
revoke all on function public.apply_inquiry_retention(integer) from public, anon, authenticated;
grant execute on function public.purge_old_inquiries(integer) to service_role;
grant execute on function public.apply_inquiry_retention(integer) to service_role;

-- ---------------------------------------------------------------------------
-- Nightly purge. cron.schedule with an existing job name updates that job, so
-- re-running the migration is harmless. The job passes no argument: the period
-- comes from retention_settings, i.e. from site.yaml.
-- ---------------------------------------------------------------------------
create extension if not exists pg_cron;

select cron.schedule('purge-inquiries', '17 3 * * *', $$select public.purge_old_inquiries()$$);
