{#- The award and loss ledgers (spec §3, §4) are the same pipeline with a different
    sheet pair and date column (中标日期 / 流失日期); each layer is one macro, and the
    models of both domains call it. -#}

{#- staging: typed and cleaned cells (§3.2 steps 1, 5, 8, 13). -#}
{% macro ledger_staging(source_relation, date_column) -%}
{%- set amounts = ['计划规模', '年缴规模'] -%}
with

source as (

    select * from {{ source_relation }}

),

number_texts as materialized (  -- computed once per cell, not once per reference

    {{ select_number_texts('source', amounts) }}

),

typed as (

    select
        {{ staged_lineage_columns() }}
        {{ parse_month_date('"上报月份"') }} as "上报月份",
        "上报月份" as "上报月份__raw",
        "业务类型",
        "计划类型",
        "上报客户名称",
        "机构名称",
        {{ clean_code('"机构代码"') }} as "机构代码",
        "客户类型",
        "原受托人",
        "证明材料",
        "备注",
        {{ clean_code('"company_id"') }} as source_company_id,
        {{ normalise_plan_code('"年金计划号"') }} as "年金计划号",
        case
            when not {{ date_out_of_range(parse_month_date(adapter.quote(date_column)), allow_future=true) }}
                then {{ parse_month_date(adapter.quote(date_column)) }}
        end as {{ adapter.quote(date_column) }},
        case when btrim("考核有效") ~ '^-?[0-9]+([.]0+)?$' then btrim("考核有效")::numeric::integer end as "考核有效",
        {%- for column in amounts %}
        {{ text_to_number(adapter.quote(column ~ '__text'), 4, is_number=adapter.quote(column ~ '__is_number')) }} as {{ adapter.quote(column) }},
        {%- endfor %}
        {{ first_invalid_number(amounts, 'column') }} as _invalid_column,
        {{ first_invalid_number(amounts, 'value') }} as _invalid_value
    from number_texts

)

select * from typed
{%- endmacro %}


{#- intermediate: normalisation, mappings, override layers (§3.2 steps 2–4, 6, 7, 9, 11). -#}
{% macro ledger_cleaned(staging_relation, names_relation, date_column) -%}
with

ledger as (

    select * from {{ staging_relation }}

),

names_normalised as (

    select raw_name, "客户名称" from {{ names_relation }}

),

types_normalised as (

    select
        ledger.*,
        coalesce(business_types."业务类型", ledger."业务类型") as normalised_business_type,
        coalesce(plan_types."计划类型", ledger."计划类型") as normalised_plan_type,
        names_normalised."客户名称" as normalised_name
    from ledger
    left join {{ ref('award_loss_business_type_normalization') }} as business_types
        on ledger."业务类型" = business_types."原业务类型"
    left join {{ ref('award_loss_plan_type_normalization') }} as plan_types
        on ledger."计划类型" = plan_types."原计划类型"
    left join names_normalised
        on ledger."上报客户名称" = names_normalised.raw_name

),

mapped as (

    select
        types_normalised._source_file,
        types_normalised._source_sheet,
        types_normalised._source_row,
        types_normalised._period,
        types_normalised."上报月份",
        types_normalised."上报月份__raw",
        types_normalised.normalised_business_type as "业务类型",
        product_lines."产品线代码",
        types_normalised."上报客户名称",
        types_normalised.normalised_name as "客户名称",
        coalesce(types_normalised."年金计划号", plan_code_defaults."计划代码") as "年金计划号",
        types_normalised."机构名称",
        {{ branch_code('types_normalised."机构名称"', 'branches."机构代码"', 'types_normalised."机构代码"') }}
            as "机构代码",
        types_normalised.{{ adapter.quote(date_column) }},
        types_normalised."计划规模",
        types_normalised."年缴规模",
        types_normalised."客户类型",
        types_normalised."原受托人",
        types_normalised.normalised_plan_type as "计划类型",
        types_normalised."证明材料",
        types_normalised."考核有效",
        types_normalised."备注",
        {#- enrichment.md step 1: plan → hardcode → name overrides (`__EMPTY__` = deliberately none) -#}
        nullif(
            coalesce(plan_overrides.company_id, hardcode_overrides.company_id, name_overrides.company_id),
            '__EMPTY__'
        ) as company_id,
        case
            when plan_overrides.company_id is not null then 'override_plan'
            when hardcode_overrides.company_id is not null then 'override_hardcode'
            when name_overrides.company_id is not null then 'override_name'
        end as company_id_source,
        {#- the ledger's own company_id, used after the cache (step 3, decision D12) -#}
        {{ usable_company_id('types_normalised.source_company_id') }} as source_company_id,
        {#- the plan code as the ledger gives it, before the type default (enrichment.md §1) -#}
        types_normalised."年金计划号" as _reported_plan_code,
        types_normalised._invalid_column,
        types_normalised._invalid_value
    from types_normalised
    left join {{ ref('business_type_code') }} as product_lines
        on types_normalised.normalised_business_type = product_lines."业务类型"
    left join {{ ref('company_branch') }} as branches
        on types_normalised."机构名称" = branches."机构名称"
    left join {{ ref('plan_code_defaults') }} as plan_code_defaults
        on types_normalised.normalised_plan_type = plan_code_defaults."计划类型"
    left join {{ ref('company_id_overrides_plan') }} as plan_overrides
        on types_normalised."年金计划号" = plan_overrides."计划代码"
    left join {{ ref('company_id_overrides_hardcode') }} as hardcode_overrides
        on types_normalised."年金计划号" = hardcode_overrides."计划代码"
    left join {{ ref('int_company_id_override_names') }} as name_overrides
        on types_normalised.normalised_name = name_overrides."客户名称"

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
{%- endmacro %}


{#- the verdict per row (§3.2 step 13, Rebuild): dropped when 上报月份, 业务类型 or
    上报客户名称 is missing; an invalid 计划规模/年缴规模 is a warning (value NULL, row
    kept); out-of-range months and too-long texts are rejected. -#}
{% macro ledger_resolved(cleaned_relation, resolution_relation, date_column) -%}
{%- set widths = {'业务类型': 20, '产品线代码': 10, '上报客户名称': 255, '客户名称': 255, '年金计划号': 50,
                  '机构名称': 100, '机构代码': 10, '客户类型': 50, '原受托人': 255, '计划类型': 50,
                  '证明材料': 255} -%}
with

cleaned as (

    select * from {{ cleaned_relation }}

),

resolved as (

    {{ select_company_resolved('cleaned', resolution_relation) }}

),

checked as (

    select
        resolved.*,
        case
            when resolved."上报月份" is null then '上报月份 is missing or not a recognised date'
            when resolved."业务类型" is null then '业务类型 is missing'
            when resolved."上报客户名称" is null then '上报客户名称 is missing'
        end as _drop_reason,
        case
            when {{ date_out_of_range('resolved."上报月份"') }}
                then array['上报月份', resolved."上报月份__raw", 'date outside 2000–2030 or in the future']
            {{- reject_when_too_large('resolved', ['计划规模', '年缴规模']) }}
            {{- reject_when_longer('resolved', widths) }}
        end as _reject
    from resolved

),

final as (

    select
        _source_file,
        _source_sheet,
        _source_row,
        _period,
        "上报月份",
        "业务类型",
        "产品线代码",
        "上报客户名称",
        "客户名称",
        "年金计划号",
        upper(resolved_company_id) as company_id,
        resolved_company_id_source as company_id_source,
        "机构名称",
        "机构代码",
        {{ adapter.quote(date_column) }},
        "计划规模",
        "年缴规模",
        "客户类型",
        "原受托人",
        "计划类型",
        "证明材料",
        "考核有效",
        "备注",
        _drop_reason,
        case when _drop_reason is null then _reject[1] end as _reject_column,
        case when _drop_reason is null then _reject[2] end as _reject_value,
        case when _drop_reason is null then _reject[3] end as _reject_reason,
        case when _drop_reason is null and _reject is null then _invalid_column end as _warning_column,
        case when _drop_reason is null and _reject is null then _invalid_value end as _warning_value,
        case
            when _drop_reason is null and _reject is null and _invalid_column is not null
                then 'not a number; published as NULL'
        end as _warning_reason
    from checked

)

select * from final
{%- endmacro %}


{#- the mart: customer.中标客户明细 / 流失客户明细 (§3.3), cast to the contract. -#}
{% macro ledger_mart(resolved_relation, date_column) -%}
with

resolved as (

    select * from {{ resolved_relation }}

),

published as (

    select
        "上报月份"::date as "上报月份",
        "业务类型"::varchar(20) as "业务类型",
        "产品线代码"::varchar(10) as "产品线代码",
        "上报客户名称"::varchar(255) as "上报客户名称",
        "客户名称"::varchar(255) as "客户名称",
        "年金计划号"::varchar(50) as "年金计划号",
        company_id::varchar(50) as company_id,
        "机构名称"::varchar(100) as "机构名称",
        "机构代码"::varchar(10) as "机构代码",
        {{ adapter.quote(date_column) }}::date as {{ adapter.quote(date_column) }},
        "计划规模"::numeric(18, 4) as "计划规模",
        "年缴规模"::numeric(18, 4) as "年缴规模",
        "客户类型"::varchar(50) as "客户类型",
        "原受托人"::varchar(255) as "原受托人",
        "计划类型"::varchar(50) as "计划类型",
        "证明材料"::varchar(255) as "证明材料",
        coalesce("考核有效", 0)::integer as "考核有效",
        "备注"::text as "备注",
        {{ published_lineage_columns() }}
    from resolved
    where _drop_reason is null
        and _reject_reason is null

)

select * from published
{%- endmacro %}
