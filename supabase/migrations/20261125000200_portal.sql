-- Client portal: clients, projects, members, messages, file metadata and
-- data-rights requests. Every table has RLS: a client reaches only rows of
-- projects they are a member of, staff (listed in public.staff) reach all,
-- anon nothing. Membership checks are SECURITY DEFINER functions with a
-- pinned search_path so policies never recurse through project_members' RLS.
-- File contents live in Storage (bucket portal-files, object names
-- '<project_id>/...'); storage.objects policies use the same membership check.

create table if not exists public.staff (
  user_id uuid primary key references auth.users (id) on delete cascade,
  added_at timestamptz not null default now()
);

create table if not exists public.clients (
  id uuid primary key references auth.users (id) on delete cascade,
  name text not null default '' check (length(name) <= 200),
  company text not null default '' check (length(company) <= 200),
  phone text not null default '' check (length(phone) <= 200),
  email text not null default '' check (length(email) <= 200),
  created_at timestamptz not null default now()
);

create table if not exists public.projects (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  status text not null default 'active' check (status in ('active', 'paused', 'closed')),
  started_on date,
  closed_on date,
  purge_queued_at timestamptz,
  created_at timestamptz not null default now(),
  check (closed_on is null or status = 'closed')
);

create table if not exists public.project_members (
  project_id uuid not null references public.projects (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'client' check (role in ('client', 'owner')),
  primary key (project_id, user_id)
);
create index if not exists project_members_user on public.project_members (user_id);

create table if not exists public.messages (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  author_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null check (length(body) between 1 and 10000),
  created_at timestamptz not null default now()
);
create index if not exists messages_project on public.messages (project_id, created_at);

create table if not exists public.files (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  uploaded_by uuid not null default auth.uid() references auth.users (id) on delete cascade,
  bucket text not null default 'portal-files',
  path text not null,
  name text not null,
  size bigint not null check (size > 0),
  content_type text not null,
  created_at timestamptz not null default now(),
  -- The object name must sit under the project's folder, so storage policies and rows agree.
  check (split_part(path, '/', 1) = project_id::text),
  unique (bucket, path)
);
create index if not exists files_project on public.files (project_id);

create table if not exists public.data_rights_requests (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  kind text not null check (kind in ('access', 'correction', 'deletion', 'objection')),
  note text not null default '' check (length(note) <= 5000),
  status text not null default 'open' check (status in ('open', 'done', 'refused')),
  created_at timestamptz not null default now(),
  closed_at timestamptz
);

-- Helpers -------------------------------------------------------------------
create or replace function public.is_staff() returns boolean
  language sql stable security definer set search_path = ''
as $$ select exists (select 1 from public.staff s where s.user_id = auth.uid()) $$;

create or replace function public.is_project_member(p uuid) returns boolean
  language sql stable security definer set search_path = ''
as $$
  select exists (select 1 from public.project_members m where m.project_id = p and m.user_id = auth.uid())
$$;

create or replace function public.can_access_project(p uuid) returns boolean
  language sql stable security definer set search_path = ''
as $$ select public.is_staff() or public.is_project_member(p) $$;

-- Object name '<project uuid>/...': a malformed first segment means "no access", not an error.
create or replace function public.can_access_object(object_name text) returns boolean
  language plpgsql stable security definer set search_path = ''
as $$
declare
  first text := split_part(object_name, '/', 1);
begin
  if first !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return public.is_staff();
  end if;
  return public.can_access_project(first::uuid);
end
$$;

revoke all on function public.is_staff(), public.is_project_member(uuid), public.can_access_project(uuid),
  public.can_access_object(text) from public, anon;
grant execute on function public.is_staff(), public.is_project_member(uuid), public.can_access_project(uuid),
  public.can_access_object(text) to authenticated, service_role;

-- Privileges and RLS --------------------------------------------------------
revoke all on public.staff, public.clients, public.projects, public.project_members, public.messages,
  public.files, public.data_rights_requests from anon, authenticated, public;
grant select on public.staff, public.projects, public.project_members to authenticated;
grant select, update on public.clients to authenticated;
grant select, insert on public.messages, public.files, public.data_rights_requests to authenticated;
grant all on public.staff, public.clients, public.projects, public.project_members, public.messages,
  public.files, public.data_rights_requests to service_role;
-- Staff manage projects and members through the dashboard/service role; clients may only fix
-- their own profile's text fields.
revoke update on public.clients from authenticated;
grant update (name, company, phone, email) on public.clients to authenticated;

alter table public.staff enable row level security;
alter table public.clients enable row level security;
alter table public.projects enable row level security;
alter table public.project_members enable row level security;
alter table public.messages enable row level security;
alter table public.files enable row level security;
alter table public.data_rights_requests enable row level security;

drop policy if exists staff_self on public.staff;
create policy staff_self on public.staff for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_staff()));

drop policy if exists clients_read on public.clients;
create policy clients_read on public.clients for select to authenticated
  using (id = (select auth.uid()) or (select public.is_staff()));
drop policy if exists clients_update on public.clients;
create policy clients_update on public.clients for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

drop policy if exists projects_read on public.projects;
create policy projects_read on public.projects for select to authenticated
  using (public.can_access_project(id));

drop policy if exists members_read on public.project_members;
create policy members_read on public.project_members for select to authenticated
  using (public.can_access_project(project_id));

drop policy if exists messages_read on public.messages;
create policy messages_read on public.messages for select to authenticated
  using (public.can_access_project(project_id));
drop policy if exists messages_write on public.messages;
create policy messages_write on public.messages for insert to authenticated
  with check (author_id = (select auth.uid()) and public.can_access_project(project_id));

drop policy if exists files_read on public.files;
create policy files_read on public.files for select to authenticated
  using (public.can_access_project(project_id));
drop policy if exists files_write on public.files;
create policy files_write on public.files for insert to authenticated
  with check (uploaded_by = (select auth.uid()) and public.can_access_project(project_id));

drop policy if exists requests_read on public.data_rights_requests;
create policy requests_read on public.data_rights_requests for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_staff()));
drop policy if exists requests_write on public.data_rights_requests;
create policy requests_write on public.data_rights_requests for insert to authenticated
  with check (user_id = (select auth.uid()) and status = 'open');

-- Storage -------------------------------------------------------------------
insert into storage.buckets (id, name, public) values ('portal-files', 'portal-files', false)
on conflict (id) do nothing;

drop policy if exists portal_files_read on storage.objects;
create policy portal_files_read on storage.objects for select to authenticated
  using (bucket_id = 'portal-files' and public.can_access_object(name));
drop policy if exists portal_files_insert on storage.objects;
create policy portal_files_insert on storage.objects for insert to authenticated
  with check (bucket_id = 'portal-files' and public.can_access_object(name));

-- Retention -----------------------------------------------------------------
insert into public.retention_settings (name, months)
values ('portal_months_after_close', 24)
on conflict (name) do nothing;

create or replace function public.portal_retention_candidates(months integer default null)
  returns table (project_id uuid, closed_on date)
  language sql stable security definer set search_path = ''
as $$
  select p.id, p.closed_on from public.projects p
  where p.closed_on is not null
    and p.closed_on < (current_date - make_interval(months => coalesce(
      months,
      (select s.months from public.retention_settings s where s.name = 'portal_months_after_close'),
      24)))
  order by p.closed_on
$$;

-- The nightly job only queues: SQL cannot delete Storage objects. `sitegen retention`
-- (edge.retention) deletes the objects through the Storage API, then calls
-- purge_portal_project() for each queued project.
create or replace function public.queue_portal_purge(months integer default null) returns integer
  language sql volatile security definer set search_path = ''
as $$
  with q as (
    update public.projects p set purge_queued_at = now()
    from public.portal_retention_candidates(months) c
    where p.id = c.project_id and p.purge_queued_at is null
    returning 1
  ) select count(*)::integer from q
$$;

create or replace function public.purge_portal_project(p uuid) returns boolean
  language sql volatile security definer set search_path = ''
as $$
  with d as (
    delete from public.projects where id = p and purge_queued_at is not null returning 1
  ) select exists (select 1 from d)
$$;

revoke all on function public.portal_retention_candidates(integer), public.queue_portal_purge(integer),
  public.purge_portal_project(uuid) from public, anon, authenticated;
grant execute on function public.portal_retention_candidates(integer), public.queue_portal_purge(integer),
  public.purge_portal_project(uuid) to service_role;

create extension if not exists pg_cron;
select cron.schedule('queue-portal-purge', '23 3 * * *', $$select public.queue_portal_purge()$$);
