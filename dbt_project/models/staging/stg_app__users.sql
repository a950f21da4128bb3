with

users as (
    select * from {{ source('app', 'users') }}
),

known_zones as (
    select name from {{ ref('stg_postgres__time_zones') }}
)

select
    users.user_id,
    users.email,
    users.timezone,
    known_zones.name is not null as has_known_timezone,
    coalesce(known_zones.name, 'UTC') as metric_timezone,
    users.created_at,
    users.updated_at
from users
left join known_zones on users.timezone = known_zones.name
