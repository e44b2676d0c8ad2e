{#- The verdict on every trustee-performance row (spec §5): dropped without a date or
    identifiers; rejected for invalid codes or metrics out of range; published rows
    carry their validation warnings. If more than half the rows fail, the gate fails. -#}

with

performance as (

    select * from {{ ref('stg_sandbox_trustee_performance__trustee_performance') }}

),

checked as (

    select
        performance.*,
        case
            when performance.report_date is null then 'no report date (年/月 or report_period)'
            when performance.plan_code is null or performance.company_code is null then 'no plan or company code'
        end as _drop_reason,
        case
            when performance._invalid_column is not null
                then array[performance._invalid_column, performance._invalid_value, 'not a number']
            when {{ date_out_of_range('performance.report_date') }}
                then array['report_date', performance.report_date__raw, 'date outside 2000–2030 or in the future']
            when performance.plan_code !~ '^[A-Z0-9.]+$' or length(performance.plan_code) > 50
                then array['plan_code', performance.plan_code, 'not 1–50 letters, digits or dots']
            when performance.company_code !~ '^[A-Z0-9.]+$' or length(performance.company_code) > 20
                then array['company_code', performance.company_code, 'not 1–20 letters, digits or dots']
            when performance.return_rate not between -1 and 10
                then array['return_rate', performance.return_rate::text, 'rate outside [-1, 10]']
            when performance.net_asset_value <= 0
                then array['net_asset_value', performance.net_asset_value::text, 'net asset value must be > 0']
            when performance.fund_scale < 0
                then array['fund_scale', performance.fund_scale::text, 'fund scale must be ≥ 0']
            when abs(performance.net_asset_value) >= 1e14 or abs(performance.fund_scale) >= 1e16
                then array['fund_scale', performance.fund_scale::text, 'amount too large']
        end as _reject,
        to_jsonb(array_remove(array[
            case when performance.report_date < (current_date - interval '10 years') then 'date more than 10 years old' end,
            case when abs(performance.return_rate) > 0.5 then '|return| above 50%' end,
            case when performance.fund_scale < performance.net_asset_value then 'fund_scale below net_asset_value' end
        ], null)) as validation_warnings
    from performance

),

final as (

    select
        _source_file,
        _source_sheet,
        _source_row,
        report_date,
        plan_code,
        company_code,
        return_rate,
        net_asset_value,
        fund_scale,
        _source_file as data_source,
        (return_rate is not null or net_asset_value is not null or fund_scale is not null) as has_performance_data,
        validation_warnings,
        _drop_reason,
        case when _drop_reason is null then _reject[1] end as _reject_column,
        case when _drop_reason is null then _reject[2] end as _reject_value,
        case when _drop_reason is null then _reject[3] end as _reject_reason
    from checked

)

select * from final
