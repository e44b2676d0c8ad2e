{#- dbt's built-in not_null, overridden to return the failing rows whole (lineage
    included) and to say in words what failed, like every other blocking test. -#}
{% test not_null(model, column_name) %}

{{ config(meta={
    'rule': 'have no {column}',
    'fix': 'fill {column} in the workbook',
}) }}

select *
from {{ model }}
where {{ column_name }} is null

{% endtest %}
