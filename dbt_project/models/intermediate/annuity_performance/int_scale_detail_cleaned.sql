{#- 规模明细 with the mappings and defaults of spec §1.2 applied (steps 3–7, 10, 11 up to
    the override layer). The identities still without a company_id are what `wdh etl`
    resolves (cache, source id, lookup service, temporary id: loader/identity.py) before
    int_scale_detail_company_resolved. -#}

with

scale_detail as (

    select * from {{ ref('stg_annuity_performance__scale_detail') }}

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

    select raw_name, "客户名称" from {{ ref('int_scale_detail_names') }}

),

codes_defaulted as (  -- §0.8

    select
        scale_detail.*,
        {{ annuity_plan_code(
            'plan_code_corrections."计划代码"', 'scale_detail."计划代码"', 'plan_code_defaults."计划代码"'
        ) }} as defaulted_plan_code,
        {{ annuity_portfolio_code(
            'scale_detail."组合代码"', 'qtan003_business_types."业务类型"', 'portfolio_defaults."组合代码"'
        ) }} as defaulted_portfolio_code
    from scale_detail
    left join plan_code_corrections
        on scale_detail."计划代码" = plan_code_corrections."原计划代码"
    left join plan_code_defaults
        on scale_detail."计划类型" = plan_code_defaults."计划类型"
    left join portfolio_defaults
        on scale_detail."计划类型" = portfolio_defaults."计划类型"
    left join qtan003_business_types
        on scale_detail."业务类型" = qtan003_business_types."业务类型"

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
        codes_defaulted."期初资产规模",
        codes_defaulted."期末资产规模",
        codes_defaulted."供款",
        codes_defaulted."流失_含待遇支付",
        codes_defaulted."流失",
        codes_defaulted."待遇支付",
        codes_defaulted."投资收益",
        codes_defaulted."当期收益率",
        codes_defaulted."当期收益率__raw",
        coalesce(branches."机构代码", 'G00') as "机构代码",
        codes_defaulted."机构名称",
        product_lines."产品线代码",
        codes_defaulted."年金账户名",
        codes_defaulted."集团企业客户号" as "年金账户号",
        codes_defaulted."子企业号",
        codes_defaulted."子企业名称",
        codes_defaulted."集团企业客户号",
        codes_defaulted."集团企业客户名称",
        {#- enrichment.md step 1: the plan override (`__EMPTY__` = deliberately no company) -#}
        case when plan_overrides."company_id" <> '__EMPTY__' then plan_overrides."company_id" end as company_id,
        case when plan_overrides."company_id" is not null then 'override_plan' end as company_id_source,
        {{ usable_company_id('codes_defaulted."公司代码"') }} as source_company_id,
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
        {{ identity_columns('mapped', 'mapped."计划代码"', 'mapped.source_company_id',
                            'mapped."计划代码" is not null and mapped."月度" is not null') }}
    from mapped

)

select * from flagged
