{#- Generic test: every value is the first day of the run's --period month. A workbook
    delivered for one month must not republish another month (delete+insert would
    replace that month's published rows). Inactive without a period (dbt docs, parse). -#}
{% test months_match_period(model, column_name) %}

select {{ column_name }}
from {{ model }}
{%- if env_var('WDH_PERIOD', '000000') != '000000' %}
where {{ column_name }} <> to_date('{{ env_var("WDH_PERIOD") }}', 'YYYYMM')
{%- else %}
where false
{%- endif %}

{% endtest %}
