{#- customer.v_customer_business_monthly_status_by_type (spec §3.3): awards and losses per
    reporting month and business type, with distinct companies and the net change. -#}
{{ config(materialized='view', schema='customer') }}

with

award_ledger as (

    select * from {{ ref('award_ledger') }}

),

loss_ledger as (

    select * from {{ ref('loss_ledger') }}

),

awards as (

    select
        "上报月份",
        "业务类型",
        count(*) as award_count,
        count(distinct company_id) as award_companies
    from award_ledger
    group by "上报月份", "业务类型"

),

losses as (

    select
        "上报月份",
        "业务类型",
        count(*) as loss_count,
        count(distinct company_id) as loss_companies
    from loss_ledger
    group by "上报月份", "业务类型"

),

combined as (

    select
        coalesce(awards."上报月份", losses."上报月份")::date as "上报月份",
        coalesce(awards."业务类型", losses."业务类型")::varchar(20) as "业务类型",
        coalesce(awards.award_count, 0)::bigint as award_count,
        coalesce(awards.award_companies, 0)::bigint as award_companies,
        coalesce(losses.loss_count, 0)::bigint as loss_count,
        coalesce(losses.loss_companies, 0)::bigint as loss_companies,
        (coalesce(awards.award_count, 0) - coalesce(losses.loss_count, 0))::bigint as net_change
    from awards
    full outer join losses
        on awards."上报月份" = losses."上报月份"
        and awards."业务类型" = losses."业务类型"

)

select * from combined
