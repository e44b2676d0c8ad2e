{#- How a mart publishes: `delete+insert` of the refresh scope present in the new rows
    (default, by month: see below), or `append` (`wdh etl --mode append`). -#}
{% macro publish_strategy() -%}
    {{ return('append' if env_var('WDH_PUBLISH_MODE', 'delete_insert') == 'append' else 'delete_insert_by_month') }}
{%- endmacro %}

{#- The incremental strategy `delete_insert_by_month`: dbt's delete+insert, except that a
    date column of the refresh key is compared by month. 月度 keeps the day of
    `20241115` (spec §0.3), so a month may hold several dates; deleting by exact date
    would leave the rows of a date the corrected workbook no longer has next to the new
    ones. One transaction (dbt runs both statements in the model's). -#}
{% macro get_incremental_delete_insert_by_month_sql(arg_dict) -%}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set unique_key = [unique_key] if unique_key is string else unique_key -%}
    {%- set types = {} -%}
    {%- for column in arg_dict['dest_columns'] %}{% do types.update({column.name: column.dtype | lower}) %}{% endfor -%}
    {%- set scope, matches = [], [] -%}
    {%- for key in unique_key -%}
        {%- set quoted, alias = adapter.quote(key), 'key_' ~ loop.index -%}
        {%- if types.get(key) == 'date' -%}
            {%- do scope.append("date_trunc('month', " ~ quoted ~ ")::date as " ~ alias) -%}
            {#- a range, so the delete uses the index on the date column -#}
            {%- do matches.append('published.' ~ quoted ~ ' >= scope.' ~ alias ~ ' and published.' ~ quoted
                ~ " < (scope." ~ alias ~ " + interval '1 month')::date") -%}
        {%- else -%}
            {%- do scope.append(quoted ~ ' as ' ~ alias) -%}
            {%- do matches.append('published.' ~ quoted ~ ' = scope.' ~ alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}

    delete from {{ target }} as published
    using (
        select distinct {{ scope | join(', ') }}
        from {{ source }}
    ) as scope
    where {{ matches | join('\n        and ') }};

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}
