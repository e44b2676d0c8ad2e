{#- Generic test: every date lies in the run's --period month (any day of it: spec §0.3
    keeps the day of `20241115`). A workbook delivered for one month must not republish
    another month (delete+insert would replace that month's published rows). Inactive
    without a period (dbt docs, parse). Returns the failing rows whole, lineage included. -#}
{% test months_match_period(model, column_name) %}

{%- set period = env_var('WDH_PERIOD', '000000') %}
{{ config(meta={
    'rule': 'have {column} {values}, but --period is {period}',
    'fix': 'correct the workbook, or run the month of those rows with its own --period',
}) }}

select *
from {{ model }}
{%- if period != '000000' %}
where date_trunc('month', {{ column_name }})::date <> to_date('{{ period }}', 'YYYYMM')
{%- else %}
where false
{%- endif %}

{% endtest %}
