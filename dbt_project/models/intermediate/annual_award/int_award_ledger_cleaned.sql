{#- The award ledger with its types normalised, codes mapped and the override layers of
    enrichment.md step 1 (spec §3.2 steps 2–4, 6, 7, 9, 11). The identities still without
    a company_id are what `wdh etl` resolves (loader/identity.py) before
    int_award_ledger_company_resolved. -#}

with

award_ledger as (

    select * from {{ ref('stg_annual_award__award_ledger') }}

),

names_normalised as (

    select raw_name, "客户名称" from {{ ref('int_award_ledger_names') }}

),

business_types as (

    select "原业务类型", "业务类型" from {{ ref('award_loss_business_type_normalization') }}

),

plan_types as (

    select "原计划类型", "计划类型" from {{ ref('award_loss_plan_type_normalization') }}

),

product_lines as (

    select "业务类型", "产品线代码" from {{ ref('business_type_code') }}

),

branches as (

    select "机构名称", "机构代码" from {{ ref('company_branch') }}

),

plan_code_defaults as (

    select "计划类型", "计划代码" from {{ ref('plan_code_defaults') }}

),

plan_overrides as (

    select "计划代码", company_id from {{ ref('company_id_overrides_plan') }}

),

hardcode_overrides as (

    select "计划代码", company_id from {{ ref('company_id_overrides_hardcode') }}

),

name_overrides as (

    select "客户名称", company_id from {{ ref('int_company_id_override_names') }}

),

normalised as (  -- §3.2 steps 2, 3: the ledger's own spellings of 业务类型 and 计划类型

    select
        award_ledger.*,
        coalesce(business_types."业务类型", award_ledger."业务类型") as normalised_business_type,
        coalesce(plan_types."计划类型", award_ledger."计划类型") as normalised_plan_type,
        names_normalised."客户名称" as normalised_name
    from award_ledger
    left join business_types
        on award_ledger."业务类型" = business_types."原业务类型"
    left join plan_types
        on award_ledger."计划类型" = plan_types."原计划类型"
    left join names_normalised
        on award_ledger."上报客户名称" = names_normalised.raw_name

),

mapped as (

    select
        normalised._source_file,
        normalised._source_sheet,
        normalised._source_row,
        normalised._period,
        normalised."上报月份",
        normalised."上报月份__raw",
        normalised.normalised_business_type as "业务类型",
        product_lines."产品线代码",
        normalised."上报客户名称",
        normalised.normalised_name as "客户名称",
        coalesce(normalised."年金计划号", plan_code_defaults."计划代码") as "年金计划号",
        normalised."机构名称",
        {{ branch_code('normalised."机构名称"', 'branches."机构代码"', 'normalised."机构代码"') }} as "机构代码",
        normalised."中标日期",
        normalised."计划规模",
        normalised."年缴规模",
        normalised."客户类型",
        normalised."原受托人",
        normalised.normalised_plan_type as "计划类型",
        normalised."证明材料",
        normalised."考核有效",
        normalised."备注",
        -- enrichment.md step 1: plan → hardcode → name overrides (`__EMPTY__` = deliberately none)
        nullif(
            coalesce(plan_overrides.company_id, hardcode_overrides.company_id, name_overrides.company_id),
            '__EMPTY__'
        ) as company_id,
        case
            when plan_overrides.company_id is not null then 'override_plan'
            when hardcode_overrides.company_id is not null then 'override_hardcode'
            when name_overrides.company_id is not null then 'override_name'
        end as company_id_source,
        -- the ledger's own company_id, used after the cache (step 3, decision D12)
        {{ usable_company_id('normalised.source_company_id') }} as source_company_id,
        -- the plan code as the ledger gives it, before the type default (enrichment.md §1)
        normalised."年金计划号" as _reported_plan_code,
        normalised._invalid_column,
        normalised._invalid_value
    from normalised
    left join product_lines
        on normalised.normalised_business_type = product_lines."业务类型"
    left join branches
        on normalised."机构名称" = branches."机构名称"
    left join plan_code_defaults
        on normalised.normalised_plan_type = plan_code_defaults."计划类型"
    left join plan_overrides
        on normalised."年金计划号" = plan_overrides."计划代码"
    left join hardcode_overrides
        on normalised."年金计划号" = hardcode_overrides."计划代码"
    left join name_overrides
        on normalised.normalised_name = name_overrides."客户名称"

),

flagged as (

    select
        mapped.*,
        {{ identity_columns('mapped', 'mapped._reported_plan_code', 'mapped.source_company_id',
                            'mapped."上报月份" is not null and mapped."业务类型" is not null'
                            ~ ' and mapped."上报客户名称" is not null') }}
    from mapped

)

select * from flagged
