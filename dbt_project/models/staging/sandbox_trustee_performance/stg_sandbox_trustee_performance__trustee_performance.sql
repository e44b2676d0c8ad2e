{#- Trustee performance rows typed and cleaned (spec §5): report_date from 年/月 (the
    characters 年 月 / - stripped) or else report_period; codes upper-cased without
    `-`, `_` and spaces; metrics cleaned with §0.4 (收益率 as a rate). -#}
{%- set metrics = ['收益率', '净值', '规模'] -%}

with

source as (

    select * from {{ source('sandbox_trustee_performance', 'trustee_performance') }}

),

number_texts as materialized (  -- computed once per cell, not once per reference

    {{ select_number_texts('source', metrics) }}

),

date_texts as materialized (

    select
        number_texts.*,
        nullif(regexp_replace(normalize(coalesce(number_texts."年", ''), nfkc), '[年月/[:space:]-]', '', 'g'), '') as year_text,  -- noqa: RF03
        nullif(regexp_replace(normalize(coalesce(number_texts."月", ''), nfkc), '[年月/[:space:]-]', '', 'g'), '') as month_text  -- noqa: RF03
    from number_texts

),

typed as (

    select
        {{ staged_lineage_columns() }}
        coalesce(
            case
                when year_text ~ '^[0-9]{4}$' and month_text ~ '^[0-9]{1,2}$'
                    and year_text::int between 2000 and 2030 and month_text::int between 1 and 12
                    then make_date(year_text::int, month_text::int, 1)
            end,
            {{ parse_month_date('report_period') }}
        ) as report_date,
        coalesce("年" || '/' || "月", report_period) as report_date__raw,
        upper(regexp_replace(btrim("计划代码"), '[-_[:space:]]', '', 'g')) as plan_code,
        upper(regexp_replace(btrim("公司代码"), '[-_[:space:]]', '', 'g')) as company_code,
        {{ text_to_number('"收益率__text"', 6, is_rate=true, is_number='"收益率__is_number"') }} as return_rate,
        {{ text_to_number('"净值__text"', 4, is_number='"净值__is_number"') }} as net_asset_value,
        {{ text_to_number('"规模__text"', 2, is_number='"规模__is_number"') }} as fund_scale,
        {{ first_invalid_number(metrics, 'column') }} as _invalid_column,
        {{ first_invalid_number(metrics, 'value') }} as _invalid_value
    from date_texts

)

select * from typed
