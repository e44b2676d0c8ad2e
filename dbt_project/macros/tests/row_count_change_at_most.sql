{#- Generic test (volume): fails for each month whose row count moved by more than
    `share` of the previous month's. Run it at warn severity: a month may really grow. -#}
{% test row_count_change_at_most(model, month_column, share) %}

{{ config(meta={
    'rule': 'changed their row count by more than ' ~ (share * 100) | round | int ~ '% from the month before',
    'fix': 'check that the month is complete before relying on it',
}) }}

with

monthly as (

    select
        date_trunc('month', {{ adapter.quote(month_column) }})::date as month,
        count(*) as row_count
    from {{ model }}
    group by 1

),

compared as (

    select
        month,
        row_count,
        lag(row_count) over (order by month) as previous_row_count
    from monthly

)

select *
from compared
where previous_row_count is not null
    and abs(row_count - previous_row_count) > {{ share }} * previous_row_count

{% endtest %}
