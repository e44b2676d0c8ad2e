{#- How a mart publishes: `delete+insert` of the refresh-key tuples present in the new
    rows (default), or `append` (`wdh etl --mode append`). -#}
{% macro publish_strategy() -%}
    {{ return('append' if env_var('WDH_PUBLISH_MODE', 'delete_insert') == 'append' else 'delete+insert') }}
{%- endmacro %}
