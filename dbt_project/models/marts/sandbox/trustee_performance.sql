{#- sandbox.sandbox_trustee_performance (spec §5), refreshed by delete+insert of
    (report_date, plan_code, company_code) as the original's scheduled job did, the
    report date compared by month (macros/publish_strategy.sql). -#}
{{
    config(
        alias='sandbox_trustee_performance',
        schema='sandbox',
        incremental_strategy=publish_strategy(),
        unique_key=['report_date', 'plan_code', 'company_code'],
        on_schema_change='append_new_columns',
    )
}}

with

checked as (

    select * from {{ ref('int_trustee_performance_checked') }}

),

published as (

    select
        report_date::date as report_date,
        plan_code::varchar(50) as plan_code,
        company_code::varchar(20) as company_code,
        return_rate::numeric(10, 6) as return_rate,
        net_asset_value::numeric(18, 4) as net_asset_value,
        fund_scale::numeric(18, 2) as fund_scale,
        data_source::varchar(255) as data_source,
        current_timestamp::timestamptz as processed_at,
        has_performance_data::boolean as has_performance_data,
        validation_warnings::jsonb as validation_warnings,
        {{ published_lineage_columns(timestamps=false) }}
    from checked
    where {{ is_published() }}

)

select * from published
