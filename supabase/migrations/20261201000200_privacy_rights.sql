-- Every promise of the privacy policy carried out by the database itself (issue 14).
--
-- 1. Retention that completes without a person: the nightly pg_cron job
--    `purge-portal` deletes expired projects with everything that hangs off
--    them, and the profile, requests and sign-in of a client whose last project
--    went. Storage objects and Auth users cannot be deleted from SQL; the
--    scheduled `sitegen retention` job does that through the Storage and Auth
--    APIs (objects first, then rows, then a sweep of objects no row refers to,
--    then the Auth users queued here).
-- 2. A closed project always has its closing date (retention is computed from it).
-- 3. Least privilege: column-level INSERT grants (a client cannot choose
--    timestamps, status, bucket or anybody's id), file rows checked against the
--    bucket's size limit and allowed types, Storage uploads only for an
--    existing file row of the uploader, a clients row created on sign-up.
-- 4. Rights: withdrawal of consent is a request kind; staff erase a person's
--    data with rights_erase() and an outcome is logged without personal data.

-- ---------------------------------------------------------------------------
-- Closed projects have a closing date. Rows that broke this before get today's
-- date: the real day is unknown, and today is the earliest day we know of, so
-- nobody's data is deleted before the period the policy promises.
-- ---------------------------------------------------------------------------
update public.projects set closed_on = current_date where status = 'closed' and closed_on is null;
alter table public.projects drop constraint if exists projects_closed_has_date;
alter table public.projects add constraint projects_closed_has_date
  check (status <> 'closed' or closed_on is not null);

-- The queue column of the old two-step purge is no longer needed.
select cron.unschedule(jobid) from cron.job where jobname = 'queue-portal-purge';
drop function if exists public.purge_portal_project(uuid);
drop function if exists public.queue_portal_purge(integer);
drop function if exists public.portal_retention_candidates(integer);
alter table public.projects drop column if exists purge_queued_at;

-- ---------------------------------------------------------------------------
-- Requests: withdrawal of consent is a kind of its own.
-- ---------------------------------------------------------------------------
alter table public.data_rights_requests drop constraint if exists data_rights_requests_kind_check;
alter table public.data_rights_requests add constraint data_rights_requests_kind_check
  check (kind in ('access', 'correction', 'deletion', 'objection', 'withdrawal'));
-- Answered requests carry their answer's time (retention counts from it); older rows get today's.
update public.data_rights_requests set closed_at = now() where status <> 'open' and closed_at is null;
update public.data_rights_requests set closed_at = null where status = 'open' and closed_at is not null;
alter table public.data_rights_requests drop constraint if exists data_rights_requests_closed_when_answered;
alter table public.data_rights_requests add constraint data_rights_requests_closed_when_answered
  check ((status = 'open') = (closed_at is null));

-- What staff did about a request, kept without the person's data: no name,
-- e-mail or id, only the kind, the dates and how many records were erased.
create table if not exists public.data_rights_log (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('access', 'correction', 'deletion', 'objection', 'withdrawal')),
  received_at timestamptz,
  answered_at timestamptz not null default now(),
  outcome text not null check (outcome in ('erased', 'done', 'refused')),
  erased jsonb not null default '{}'::jsonb
);
comment on table public.data_rights_log is
  'Outcomes of data-rights requests without personal data (kind, dates, counts).';
revoke all on public.data_rights_log from public, anon, authenticated;
grant select, insert on public.data_rights_log to service_role;
alter table public.data_rights_log enable row level security;

-- ---------------------------------------------------------------------------
-- Least privilege: clients insert only the columns they may choose.
-- ---------------------------------------------------------------------------
revoke insert on public.messages, public.files, public.data_rights_requests from authenticated;
grant insert (project_id, body) on public.messages to authenticated;
grant insert (project_id, path, name, size, content_type) on public.files to authenticated;
grant insert (kind, note) on public.data_rights_requests to authenticated;

-- The bucket's limits come from site.yaml (portal.upload_max_bytes,
-- portal.upload_types); `sitegen retention` re-applies them with
-- apply_portal_bucket(), these are today's values.
update storage.buckets
set file_size_limit = 26214400,
    allowed_mime_types = array['application/pdf', 'image/png', 'image/jpeg', 'image/webp',
                               'application/zip', 'text/plain']
where id = 'portal-files';

create or replace function public.apply_portal_bucket(bucket text, max_bytes bigint, types text[])
  returns void
  language plpgsql volatile security definer set search_path = ''
as $$
begin
  if max_bytes is null or max_bytes < 1 then
    raise exception 'upload_max_bytes must be positive, got %', max_bytes using errcode = '22023';
  end if;
  update storage.buckets b set file_size_limit = max_bytes, allowed_mime_types = types where b.id = bucket;
  if not found then
    raise exception 'no storage bucket %', bucket using errcode = '22023';
  end if;
end
$$;

-- A file row must fit its bucket: the same limits Storage applies to the upload.
create or replace function public.check_file_fits_bucket() returns trigger
  language plpgsql security definer set search_path = ''
as $$
declare
  b storage.buckets;
begin
  select * into b from storage.buckets where id = new.bucket;
  if not found then
    raise exception 'no storage bucket %', new.bucket using errcode = '23514';
  end if;
  if b.file_size_limit is not null and new.size > b.file_size_limit then
    raise exception 'file of % bytes is over the limit of % bytes', new.size, b.file_size_limit
      using errcode = '23514';
  end if;
  if b.allowed_mime_types is not null and not (new.content_type = any (b.allowed_mime_types)) then
    raise exception 'content type % is not accepted', new.content_type using errcode = '23514';
  end if;
  return new;
end
$$;
drop trigger if exists files_fit_bucket on public.files;
create trigger files_fit_bucket before insert or update on public.files
  for each row execute function public.check_file_fits_bucket();

-- Storage: an object may be created only where the uploader has a file row
-- (which the edge writes before it hands out the signed upload URL).
create or replace function public.has_file_row(bucket text, object_name text) returns boolean
  language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.files f
    where f.bucket = has_file_row.bucket and f.path = object_name and f.uploaded_by = auth.uid()
      and public.can_access_project(f.project_id)
  )
$$;
revoke all on function public.has_file_row(text, text) from public, anon;
grant execute on function public.has_file_row(text, text) to authenticated, service_role;

drop policy if exists portal_files_insert on storage.objects;
create policy portal_files_insert on storage.objects for insert to authenticated
  with check (bucket_id = 'portal-files' and public.has_file_row(bucket_id, name));

-- ---------------------------------------------------------------------------
-- A clients row for every account, made when Auth creates the user.
-- ---------------------------------------------------------------------------
create or replace function public.create_client_profile() returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.clients (id, email) values (new.id, left(coalesce(new.email, ''), 200))
  on conflict (id) do nothing;
  return new;
end
$$;
revoke all on function public.create_client_profile() from public, anon, authenticated;
drop trigger if exists on_auth_user_created on auth.users;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.create_client_profile();
insert into public.clients (id, email)
select u.id, left(coalesce(u.email, ''), 200) from auth.users u
on conflict (id) do nothing;

-- ---------------------------------------------------------------------------
-- Portal retention. A project counts as closed at the end of its closing day
-- (UTC); its data goes once the period after that instant is over.
-- ---------------------------------------------------------------------------
create or replace function public.portal_months() returns integer
  language sql stable security definer set search_path = ''
as $$
  select coalesce(
    (select s.months from public.retention_settings s where s.name = 'portal_months_after_close'), 24)
$$;

create or replace function public.portal_expired_projects(at timestamptz default now())
  returns table (project_id uuid, expired_at timestamptz)
  language sql stable security definer set search_path = ''
as $$
  select p.id, ((p.closed_on + 1)::timestamp at time zone 'UTC') + make_interval(months => public.portal_months())
  from public.projects p
  where p.closed_on is not null
    and ((p.closed_on + 1)::timestamp at time zone 'UTC') + make_interval(months => public.portal_months()) < at
  order by 2
$$;

-- Accounts whose Auth user must still be deleted through the Auth admin API.
-- The foreign key removes the row when the user goes.
create table if not exists public.auth_user_purge_queue (
  user_id uuid primary key references auth.users (id) on delete cascade,
  queued_at timestamptz not null default now()
);
revoke all on public.auth_user_purge_queue from public, anon, authenticated;
grant select, delete on public.auth_user_purge_queue to service_role;
alter table public.auth_user_purge_queue enable row level security;

-- Everything a person has in the portal except shared projects: profile,
-- requests, memberships, their messages and files elsewhere; queues their sign-in.
create or replace function public.erase_portal_person(person uuid) returns jsonb
  language plpgsql volatile security definer set search_path = ''
as $$
declare
  n_messages integer;
  n_files integer;
  n_requests integer;
  n_profile integer;
begin
  delete from public.messages where author_id = person;
  get diagnostics n_messages = row_count;
  delete from public.files where uploaded_by = person;
  get diagnostics n_files = row_count;
  delete from public.data_rights_requests where user_id = person;
  get diagnostics n_requests = row_count;
  delete from public.project_members where user_id = person;
  delete from public.clients where id = person;
  get diagnostics n_profile = row_count;
  insert into public.auth_user_purge_queue (user_id) select person
  where exists (select 1 from auth.users where id = person)
  on conflict (user_id) do nothing;
  return jsonb_build_object('messages', n_messages, 'files', n_files, 'requests', n_requests,
                            'profiles', n_profile);
end
$$;

-- The nightly job: expired projects with their members, messages and files;
-- then everyone (not staff) left without a project; answered requests past
-- the period. Storage objects of the deleted file rows are swept by the
-- scheduled `sitegen retention` job.
create or replace function public.purge_portal_rows(at timestamptz default now()) returns integer
  language plpgsql volatile security definer set search_path = ''
as $$
declare
  expired uuid[];
  people uuid[];
  person uuid;
  deleted integer;
begin
  select coalesce(array_agg(e.project_id), '{}') into expired from public.portal_expired_projects(at) e;
  select coalesce(array_agg(distinct m.user_id), '{}') into people
  from public.project_members m where m.project_id = any (expired);
  delete from public.projects where id = any (expired);
  get diagnostics deleted = row_count;
  foreach person in array people loop
    if not exists (select 1 from public.project_members m where m.user_id = person)
       and not exists (select 1 from public.staff s where s.user_id = person) then
      perform public.erase_portal_person(person);
    end if;
  end loop;
  delete from public.data_rights_requests r
  where r.status <> 'open' and r.closed_at + make_interval(months => public.portal_months()) < at;
  return deleted;
end
$$;

-- Objects in a bucket that no file row refers to (the sweep's list).
create or replace function public.orphan_objects(bucket text) returns setof text
  language sql stable security definer set search_path = ''
as $$
  select o.name from storage.objects o
  where o.bucket_id = orphan_objects.bucket
    and not exists (select 1 from public.files f where f.bucket = orphan_objects.bucket and f.path = o.name)
  order by o.name
$$;

-- Inquiries: the same period as before, with the reference instant as a parameter.
drop function if exists public.purge_old_inquiries(integer);
create or replace function public.purge_old_inquiries(months integer default null, at timestamptz default now())
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
  where i.created_at < at - make_interval(months => period);
  get diagnostics deleted = row_count;
  return deleted;
end;
$$;

-- ---------------------------------------------------------------------------
-- Rights: what is held about an e-mail address, and erasing it.
-- The address is matched against Auth's (verified) address, never against
-- the editable profile e-mail, so nobody can aim an erasure at someone else.
-- ---------------------------------------------------------------------------
create or replace function public.rights_subject(address text) returns jsonb
  language sql stable security definer set search_path = ''
as $$
  with person as (
    select u.id from auth.users u where lower(u.email) = lower(btrim(address))
  ),
  own_projects as (
    -- Projects where nobody but this person (and staff) is a member go as a whole.
    select m.project_id from public.project_members m join person on m.user_id = person.id
    where not exists (
      select 1 from public.project_members o
      where o.project_id = m.project_id and o.user_id <> m.user_id
        and not exists (select 1 from public.staff s where s.user_id = o.user_id)
    )
  )
  select jsonb_build_object(
    'user_id', (select id from person),
    'inquiries', (select count(*) from public.inquiries i where lower(i.email) = lower(btrim(address))),
    'profile', (select count(*) from public.clients c join person on c.id = person.id),
    'projects', coalesce((select jsonb_agg(project_id) from own_projects), '[]'::jsonb),
    'messages', (select count(*) from public.messages x
                 where x.author_id in (select id from person) or x.project_id in (select project_id from own_projects)),
    'requests', (select count(*) from public.data_rights_requests r join person on r.user_id = person.id),
    'files', coalesce((select jsonb_agg(jsonb_build_object('bucket', f.bucket, 'path', f.path) order by f.path)
                       from public.files f
                       where f.uploaded_by in (select id from person)
                          or f.project_id in (select project_id from own_projects)), '[]'::jsonb)
  )
$$;

-- Erase rows (Storage objects and the Auth user are the caller's part) and log the outcome.
create or replace function public.rights_erase(address text, kind text, request uuid default null)
  returns jsonb
  language plpgsql volatile security definer set search_path = ''
as $$
declare
  subject jsonb := public.rights_subject(address);
  person uuid := (subject ->> 'user_id')::uuid;
  received timestamptz;
  n_inquiries integer;
  n_projects integer := 0;
  counts jsonb := '{}'::jsonb;
begin
  if kind not in ('deletion', 'objection', 'withdrawal') then
    raise exception 'only deletion, objection or withdrawal erase data, not %', kind using errcode = '22023';
  end if;
  if request is not null then
    select r.created_at into received from public.data_rights_requests r
    where r.id = request and r.user_id is not distinct from person;
    if not found then
      raise exception 'request % is not from %', request, address using errcode = '22023';
    end if;
  end if;
  -- Lets the owner's erase policy on inquiries match this address only (see below).
  perform set_config('sitegen.erase_email', lower(btrim(address)), true);
  delete from public.inquiries i where lower(i.email) = lower(btrim(address));
  get diagnostics n_inquiries = row_count;
  if person is not null then
    delete from public.projects p
    where p.id in (select jsonb_array_elements_text(subject -> 'projects')::uuid);
    get diagnostics n_projects = row_count;
    counts := public.erase_portal_person(person);
  end if;
  counts := counts || jsonb_build_object('inquiries', n_inquiries, 'projects', n_projects);
  insert into public.data_rights_log (kind, received_at, outcome, erased)
  values (kind, received, 'erased', counts);
  return counts;
end
$$;

-- The inquiries purge policy lets the owner delete only old rows; an erasure
-- may delete recent ones, but only those of the address rights_erase names.
drop policy if exists inquiries_owner_erase on public.inquiries;
create policy inquiries_owner_erase on public.inquiries
  for delete to postgres
  using (lower(email) = current_setting('sitegen.erase_email', true));

-- Open requests for staff, with the account's address.
create or replace function public.open_rights_requests()
  returns table (id uuid, kind text, note text, created_at timestamptz, email text)
  language sql stable security definer set search_path = ''
as $$
  select r.id, r.kind, r.note, r.created_at, u.email::text
  from public.data_rights_requests r left join auth.users u on u.id = r.user_id
  where r.status = 'open'
  order by r.created_at
$$;

-- Answer a request that erases nothing (access, correction, or a refusal).
create or replace function public.answer_rights_request(request uuid, outcome text) returns void
  language plpgsql volatile security definer set search_path = ''
as $$
declare
  r public.data_rights_requests;
begin
  if outcome not in ('done', 'refused') then
    raise exception 'outcome must be done or refused, not %', outcome using errcode = '22023';
  end if;
  update public.data_rights_requests x set status = outcome, closed_at = now()
  where x.id = request and x.status = 'open' returning * into r;
  if not found then
    raise exception 'no open request %', request using errcode = '22023';
  end if;
  insert into public.data_rights_log (kind, received_at, outcome) values (r.kind, r.created_at, outcome);
end
$$;

-- Inquiries sent from the caller's verified address (part of their export).
create or replace function public.my_inquiries()
  returns table (created_at timestamptz, region text, service text, name text, email text, phone text,
                 company text, message text, consent_at timestamptz)
  language sql stable security definer set search_path = ''
as $$
  select i.created_at, i.region, i.service, i.name, i.email, i.phone, i.company, i.message, i.consent_at
  from public.inquiries i join auth.users u on lower(i.email) = lower(u.email)
  where u.id = auth.uid() and u.email_confirmed_at is not null
  order by i.created_at
$$;

revoke all on function public.apply_portal_bucket(text, bigint, text[]), public.portal_months(),
  public.portal_expired_projects(timestamptz), public.erase_portal_person(uuid),
  public.purge_portal_rows(timestamptz), public.orphan_objects(text),
  public.purge_old_inquiries(integer, timestamptz), public.rights_subject(text),
  public.rights_erase(text, text, uuid), public.open_rights_requests(),
  public.answer_rights_request(uuid, text), public.my_inquiries(), public.check_file_fits_bucket()
  from public, anon, authenticated;
grant execute on function public.apply_portal_bucket(text, bigint, text[]), public.portal_months(),
  public.portal_expired_projects(timestamptz), public.erase_portal_person(uuid),
  public.purge_portal_rows(timestamptz), public.orphan_objects(text),
  public.purge_old_inquiries(integer, timestamptz), public.rights_subject(text),
  public.rights_erase(text, text, uuid), public.open_rights_requests(),
  public.answer_rights_request(uuid, text)
  to service_role;
grant execute on function public.my_inquiries() to authenticated;

-- apply_inquiry_retention called the one-argument purge; point it at the new one.
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
  return public.purge_old_inquiries(months, now());
end;
$$;

select cron.schedule('purge-inquiries', '17 3 * * *', $$select public.purge_old_inquiries()$$);
select cron.schedule('purge-portal', '23 3 * * *', $$select public.purge_portal_rows()$$);
