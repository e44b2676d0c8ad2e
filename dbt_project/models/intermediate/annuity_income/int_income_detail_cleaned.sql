{#- 收入明细 with the mappings and defaults of spec §2.2 (steps 2, 3, 5, 7, 8, 10, 11 up to
    the override layer); branch code per macro branch_code (decision D11). -#}

with

income_detail as (

    select * from {{ ref('stg_annuity_income__income_detail') }}

),

plan_code_corrections as (

    select "原计划代码", "计划代码" from {{ ref('plan_code_corrections') }}

),

plan_code_defaults as (

    select "计划类型", "计划代码" from {{ ref('plan_code_defaults') }}

),

portfolio_defaults as (

    select "计划类型", "组合代码" from {{ ref('default_portfolio_code') }}
    where "计划类型" in ('集合计划', '单一计划')

),

qtan003_business_types as (

    select "业务类型" from {{ ref('portfolio_qtan003_business_types') }}

),

branches as (

    select "机构名称", "机构代码" from {{ ref('company_branch') }}

),

product_lines as (

    select "业务类型", "产品线代码" from {{ ref('business_type_code') }}

),

plan_overrides as (

    select "计划代码", "company_id" from {{ ref('company_id_overrides_plan') }}

),

names_normalised as (

    select raw_name, "客户名称" from {{ ref('int_income_detail_names') }}

),

codes_defaulted as (  -- §0.8

    select
        income_detail.*,
        {{ annuity_plan_code(
            'plan_code_corrections."计划代码"', 'income_detail."计划代码"', 'plan_code_defaults."计划代码"'
        ) }} as defaulted_plan_code,
        {{ annuity_portfolio_code(
            'income_detail."组合代码"', 'qtan003_business_types."业务类型"', 'portfolio_defaults."组合代码"'
        ) }} as defaulted_portfolio_code
    from income_detail
    left join plan_code_corrections
        on income_detail."计划代码" = plan_code_corrections."原计划代码"
    left join plan_code_defaults
        on income_detail."计划类型" = plan_code_defaults."计划类型"
    left join portfolio_defaults
        on income_detail."计划类型" = portfolio_defaults."计划类型"
    left join qtan003_business_types
        on income_detail."业务类型" = qtan003_business_types."业务类型"

),

mapped as (

    select
        codes_defaulted._source_file,
        codes_defaulted._source_sheet,
        codes_defaulted._source_row,
        codes_defaulted._period,
        codes_defaulted."月度",
        codes_defaulted."月度__raw",
        codes_defaulted."业务类型",
        codes_defaulted."计划类型",
        codes_defaulted.defaulted_plan_code as "计划代码",
        codes_defaulted."计划名称",
        codes_defaulted."组合类型",
        codes_defaulted.defaulted_portfolio_code as "组合代码",
        codes_defaulted."组合名称",
        names_normalised."客户名称",
        codes_defaulted."年金账户名",
        {{ branch_code('codes_defaulted."机构名称"', 'branches."机构代码"', 'codes_defaulted."机构代码"') }}
            as "机构代码",
        codes_defaulted."机构名称",
        product_lines."产品线代码",
        coalesce(codes_defaulted."固费", 0) as "固费",
        coalesce(codes_defaulted."浮费", 0) as "浮费",
        coalesce(codes_defaulted."回补", 0) as "回补",
        coalesce(codes_defaulted."税", 0) as "税",
        case when plan_overrides."company_id" <> '__EMPTY__' then plan_overrides."company_id" end as company_id,
        case when plan_overrides."company_id" is not null then 'override_plan' end as company_id_source,
        codes_defaulted._invalid_column,
        codes_defaulted._invalid_value
    from codes_defaulted
    left join names_normalised
        on codes_defaulted."客户名称" = names_normalised.raw_name
    left join branches
        on codes_defaulted."机构名称" = branches."机构名称"
    left join product_lines
        on codes_defaulted."业务类型" = product_lines."业务类型"
    left join plan_overrides
        on codes_defaulted.defaulted_plan_code = plan_overrides."计划代码"

),

flagged as (

    select
        mapped.*,
        {{ identity_columns('mapped', 'mapped."计划代码"', 'null::text',
                            'mapped."计划代码" is not null and mapped."月度" is not null') }}
    from mapped

)

select * from flagged
