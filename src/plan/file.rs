//! Plan files (`plan -o FILE`): the plan plus what apply needs to trust it.
